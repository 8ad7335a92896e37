import { decodeGlobalID } from '@pothos/plugin-relay';
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { addMember, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { createInstance, SetKey } from './helpers/kv.ts';
import { openSession, settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { WebhookEnqueuer } from '../src/modules/webhooks/webhooks.enqueue.ts';
import type { Published } from '../src/live/bus.ts';
import { eventually, startWebhookReceiver, verifySignature, type ReceivedHook, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const Create = graphql(`
  mutation WebhookDeliveryCreate($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }
`);
const Update = graphql(`mutation WebhookDeliveryUpdate($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id enabled } }`);
const Deliveries = graphql(`
  query WebhookDeliveryList($id: ID!, $status: WebhookDeliveryStatus) {
    node(id: $id) { ... on Webhook { deliveries(first: 50, status: $status) { edges { node {
      id eventId eventType status attempts lastStatusCode lastError lastAttemptAt nextAttemptAt deliveredAt payload
    } } } } }
  }
`);
const Redeliver = graphql(`
  mutation WebhookDeliveryRedeliver($input: RedeliverWebhookDeliveryInput!) { redeliverWebhookDelivery(input: $input) { id eventId status } }
`);
const CreateRoom = graphql(`mutation WebhookDeliveryRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const SendMessage = graphql(`mutation WebhookDeliverySend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`);
const UpdateRole = graphql(`mutation WebhookDeliveryRole($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }`);
const Remove = graphql(`mutation WebhookDeliveryRemove($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }`);

const CreateProject = graphql(`mutation WebhookDeliveryProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);

const ALL = ['ROOM_MESSAGE_ADDED', 'THREAD_MESSAGE_COMPLETED', 'INVOICE_PAID', 'SESSION_STATE_CHANGED', 'KV_KEY_CHANGED', 'MEMBER_JOINED', 'MEMBER_LEFT'] as const;
type EventName = (typeof ALL)[number];

let server: TestServer;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startServer({
    overrides: { webhooks: { allowPrivate: true, backoffBaseMs: 150, backoffMaxMs: 2000, retryWindow: 4, timeoutMs: 1000, pollIntervalMs: 100 } },
  });
});

let paths = 0;
async function webhook(owner: TestUser, orgId: string, events: readonly EventName[] = ALL) {
  const path = `/hook-${++paths}`;
  const { createWebhook } = await server.ok(Create, { input: { orgId, url: `${receiver.url}${path}`, events: [...events] } }, { token: owner.token });
  return { id: createWebhook.webhook.id, secret: createWebhook.secret, path, hits: (n: number, type?: string) => receiver.waitFor(n, (h) => h.path === path && (!type || h.body.type === type)) };
}
const deliveries = async (owner: TestUser, id: string, status?: 'PENDING' | 'SUCCEEDED' | 'FAILED') =>
  ((await server.ok(Deliveries, { id, status }, { token: owner.token })).node as any).deliveries.edges.map((e: any) => e.node);

/** Our own reading of the scheme, beside Stripe's: HMAC-SHA256 over "t.body" with the secret. */
function checkByHand(hook: ReceivedHook, secret: string) {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hook.headers['confab-signature']))!;
  expect(createHmac('sha256', secret).update(`${t}.${hook.raw}`).digest('hex')).toBe(v1);
  expect(Math.abs(Number(t) - hook.at / 1000)).toBeLessThan(60);
}

describe('webhook deliveries', () => {
  it('names a room message\'s parent and mentions (global IDs) in ROOM_MESSAGE_ADDED', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const hook = await webhook(owner, org.id, ['ROOM_MESSAGE_ADDED']);
    const auth = { token: owner.token };
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'r', memberIds: [members[0].id] } }, auth);
    const parent = (await server.ok(SendMessage, { input: { roomId: createRoom.id, content: 'parent' } }, auth)).sendMessage;
    const reply = (await server.ok(SendMessage, { input: { roomId: createRoom.id, content: 'reply', parentId: parent.id, mentionIds: [members[0].id] } }, auth)).sendMessage;
    const [first, second] = (await hook.hits(2)).sort((a, b) => (a.body.data as { seq: number }).seq - (b.body.data as { seq: number }).seq);
    expect(first.body.data).toMatchObject({ messageId: parent.id, parentId: null, mentionIds: [] });
    expect(second.body.data).toMatchObject({ messageId: reply.id, seq: 2, parentId: parent.id, mentionIds: [members[0].id] });
  });

  it('delivers each event type, fired by its real mutation, signed so that Stripe’s verifier accepts it', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const hook = await webhook(owner, org.id);
    const auth = { token: owner.token };

    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'r', memberIds: [members[0].id] } }, auth);
    const { sendMessage } = await server.ok(SendMessage, { input: { roomId: createRoom.id, content: 'hello hooks' } }, auth);
    const [room] = await hook.hits(1, 'ROOM_MESSAGE_ADDED');
    expect(room.body.data).toMatchObject({ orgId: org.id, roomId: createRoom.id, messageId: sendMessage.id, seq: 1, authorId: owner.id, content: 'hello hooks' });

    const thread = await createThread(server, owner.token, org.id);
    const turn = await send(server, auth, thread.id, 'tell me');
    const [done] = await hook.hits(1, 'THREAD_MESSAGE_COMPLETED');
    expect(done.body.data).toMatchObject({ threadId: thread.id, messageId: turn.assistantMessage.id, role: 'ASSISTANT', status: 'COMPLETE', content: turn.assistantMessage.content });

    const opened = await openSession(server, 500, auth, thread.id);
    await settle(server, opened.invoice.paymentHash);
    const [paid] = await hook.hits(1, 'INVOICE_PAID');
    expect(paid.body.data).toMatchObject({ invoiceId: opened.invoice.id, sessionId: opened.session.id, threadId: thread.id, kind: 'DEPOSIT', amountSats: 500 });
    const [state] = await hook.hits(1, 'SESSION_STATE_CHANGED');
    expect(state.body.data).toMatchObject({ sessionId: opened.session.id, state: 'ACTIVE', balanceSats: 500 });

    const { createProject } = await server.ok(CreateProject, { input: { orgId: org.id, name: 'hooks' } }, auth);
    const instanceId = await createInstance(server, auth, createProject.id);
    const { setKvKey } = await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: 'greeting', value: 'hi' } }, auth);
    const [kv] = await hook.hits(1, 'KV_KEY_CHANGED');
    expect(kv.body.data).toMatchObject({ orgId: org.id, projectId: createProject.id, kvInstanceId: instanceId, version: setKvKey.version, event: 'KvKeyUpdated', name: 'greeting', type: 'TEXT', value: 'hi' });

    const joiner = await registerUser(server);
    await addMember(server, org.id, owner, joiner);
    const [joined] = await hook.hits(1, 'MEMBER_JOINED');
    expect(joined.body.data).toEqual({ orgId: org.id, userId: joiner.id, role: 'MEMBER' });
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: joiner.id, role: 'ADMIN' } }, auth);
    await server.ok(Remove, { input: { orgId: org.id, userId: joiner.id } }, auth);
    const [left] = await hook.hits(1, 'MEMBER_LEFT');
    expect(left.body.data).toEqual({ orgId: org.id, userId: joiner.id });

    const all = receiver.received.filter((h) => h.path === hook.path);
    // A role change is neither a join nor a leave.
    expect(all.filter((h) => h.body.type === 'MEMBER_JOINED')).toHaveLength(1);
    for (const h of all) {
      expect(verifySignature(h, hook.secret)).toEqual(h.body);
      checkByHand(h, hook.secret);
      expect(() => verifySignature(h, `${hook.secret}x`)).toThrow();
      expect(h.headers['content-type']).toBe('application/json');
      expect(h.headers['confab-event-id']).toBe(h.body.id);
      expect(h.headers['confab-event-type']).toBe(h.body.type);
      expect(h.body.id).toMatch(/^evt_[0-9a-f]{24}$/);
      expect(Date.parse(h.body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(new Set(all.map((h) => h.body.id)).size).toBe(all.length);

    const listed = await eventually(async () => {
      const rows = await deliveries(owner, hook.id);
      return rows.length === all.length && rows.every((d: any) => d.status === 'SUCCEEDED') && rows;
    }, 10_000, 'every delivery SUCCEEDED');
    expect(listed[0]).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(listed.map((d: any) => d.eventId).sort()).toEqual(all.map((h) => h.body.id).sort());
    expect(String(all[0].headers['confab-delivery-id'])).toMatch(/^[a-z\d+/=]+$/i);
  });

  it('sends only the subscribed events of its own org, and nothing while disabled', async () => {
    const a = await orgWithMembers(server);
    const b = await orgWithMembers(server);
    const joinsOnly = await webhook(a.owner, a.org.id, ['MEMBER_JOINED']);
    const leaves = await webhook(a.owner, a.org.id, ['MEMBER_LEFT']);
    await server.ok(Update, { input: { webhookId: leaves.id, enabled: false } }, { token: a.owner.token });
    const bHook = await webhook(b.owner, b.org.id, ['MEMBER_JOINED']);

    const u = await registerUser(server);
    await addMember(server, a.org.id, a.owner, u);
    await server.ok(Remove, { input: { orgId: a.org.id, userId: u.id } }, { token: a.owner.token });
    await joinsOnly.hits(1);
    await server.ok(Update, { input: { webhookId: leaves.id, enabled: true } }, { token: a.owner.token });
    await addMember(server, a.org.id, a.owner, u);
    await server.ok(Remove, { input: { orgId: a.org.id, userId: u.id } }, { token: a.owner.token });
    await leaves.hits(1);
    await joinsOnly.hits(2);
    await new Promise((r) => setTimeout(r, 500));
    const at = (p: string) => receiver.received.filter((h) => h.path === p).map((h) => h.body.type);
    expect(at(joinsOnly.path)).toEqual(['MEMBER_JOINED', 'MEMBER_JOINED']);
    expect(at(leaves.path)).toEqual(['MEMBER_LEFT']);
    expect(at(bHook.path)).toEqual([]);
  });
});

describe('events raised before a webhook existed', () => {
  it('are not given to it, however late they are written', async () => {
    const { org, owner } = await orgWithMembers(server);
    const [before, after] = [await registerUser(server), await registerUser(server)];
    // An enqueuer of the test's own, whose batch is written only when the test flushes it (its scheduled
    // write is caught by a fake setImmediate that never fires): as when the queue is far behind.
    const late = new WebhookEnqueuer(server.app.services, () => {});
    const joined = (user: TestUser): Published => ({
      topic: 'org:membershipChanged',
      args: [decodeGlobalID(org.id).id, { userId: decodeGlobalID(user.id).id, role: 'MEMBER', change: 'JOINED' }],
    });
    vi.useFakeTimers({ toFake: ['setImmediate'] });
    try {
      late.tap(joined(before));
    } finally {
      vi.useRealTimers();
    }
    const hook = await webhook(owner, org.id, ['MEMBER_JOINED']);
    late.tap(joined(after));
    await late.flush();
    const rows = await deliveries(owner, hook.id);
    expect(rows.map((d: any) => [d.eventType, d.payload.data.userId])).toEqual([['MEMBER_JOINED', after.id]]);
  });
});

describe('retries', () => {
  it('retries after 500s with growing, jittered delays, sending the same event and body, then succeeds', async () => {
    const { org, owner } = await orgWithMembers(server);
    const hook = await webhook(owner, org.id, ['MEMBER_JOINED']);
    let calls = 0;
    receiver.respond = (h) => (h.path === hook.path && ++calls <= 2 ? 500 : 200);
    try {
      await addMember(server, org.id, owner, await registerUser(server));
      const hits = await hook.hits(3);
      expect(hits.map((h) => h.status)).toEqual([500, 500, 200]);
      expect(new Set(hits.map((h) => h.raw)).size).toBe(1);
      for (const h of hits) expect(verifySignature(h, hook.secret).id).toBe(hits[0].body.id);
      // backoff_base_ms = 150: the first retry waits 75–150 ms, the second 150–300 ms (half fixed, half random).
      expect(hits[1].at - hits[0].at).toBeGreaterThanOrEqual(70);
      expect(hits[2].at - hits[1].at).toBeGreaterThanOrEqual(145);
      const [d] = await eventually(async () => {
        const rows = await deliveries(owner, hook.id);
        return rows[0]?.status === 'SUCCEEDED' && rows;
      });
      expect(d).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(d.deliveredAt).not.toBeNull();
    } finally {
      receiver.respond = () => 200;
    }
  });

  it('shows a pending retry, and gives up as FAILED once the retry window (webhooks.retry_window) has passed', async () => {
    const { org, owner } = await orgWithMembers(server);
    const hook = await webhook(owner, org.id, ['MEMBER_JOINED']);
    receiver.respond = (h) => (h.path === hook.path ? 503 : 200);
    try {
      await addMember(server, org.id, owner, await registerUser(server));
      await hook.hits(1);
      const [pending] = await eventually(async () => {
        const rows = await deliveries(owner, hook.id, 'PENDING');
        return rows[0]?.attempts >= 1 && rows;
      });
      expect(pending).toMatchObject({ status: 'PENDING', lastStatusCode: 503, lastError: 'HTTP 503: receiver says 503' });
      expect(Date.parse(pending.nextAttemptAt)).toBeGreaterThan(Date.parse(pending.lastAttemptAt));
      const [failed] = await eventually(async () => {
        const rows = await deliveries(owner, hook.id, 'FAILED');
        return rows.length && rows;
      }, 15_000, 'FAILED');
      expect(failed.attempts).toBeGreaterThanOrEqual(3);
      expect(failed).toMatchObject({ lastStatusCode: 503, nextAttemptAt: null, deliveredAt: null });
      const sent = receiver.received.filter((h) => h.path === hook.path).length;
      expect(sent).toBe(failed.attempts);
      await new Promise((r) => setTimeout(r, 600));
      expect(receiver.received.filter((h) => h.path === hook.path).length).toBe(sent);

      // Redelivery: a new delivery of the same event, sent at once with a fresh window.
      receiver.respond = () => 200;
      const { redeliverWebhookDelivery } = await server.ok(Redeliver, { input: { deliveryId: failed.id } }, { token: owner.token });
      expect(redeliverWebhookDelivery).toMatchObject({ eventId: failed.eventId, status: 'PENDING' });
      const last = (await hook.hits(sent + 1)).at(-1)!;
      expect(last).toMatchObject({ status: 200, body: { id: failed.eventId } });
      expect(verifySignature(last, hook.secret).id).toBe(failed.eventId);
    } finally {
      receiver.respond = () => 200;
    }
  });

  it('counts a receiver that does not answer within webhooks.timeout_ms as a failed attempt, and a 3xx too', async () => {
    const { org, owner } = await orgWithMembers(server);
    const hook = await webhook(owner, org.id, ['MEMBER_JOINED']);
    let calls = 0;
    receiver.respond = (h) => (h.path !== hook.path ? 200 : ++calls === 1 ? 'hang' : calls === 2 ? 302 : 204);
    try {
      await addMember(server, org.id, owner, await registerUser(server));
      const [d] = await eventually(async () => {
        const rows = await deliveries(owner, hook.id);
        return rows[0]?.status === 'SUCCEEDED' && rows;
      });
      expect(d).toMatchObject({ attempts: 3, lastStatusCode: 204 });
      expect(calls).toBe(3);
    } finally {
      receiver.respond = () => 200;
    }
  });

  it('refuses redelivery to outsiders and members, by any id', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const outsider = (await orgWithMembers(server)).owner;
    const hook = await webhook(owner, org.id, ['MEMBER_JOINED']);
    await addMember(server, org.id, owner, await registerUser(server));
    await hook.hits(1);
    const [d] = await eventually(async () => (await deliveries(owner, hook.id)).length && deliveries(owner, hook.id));
    expect(await server.errorCode(Redeliver, { input: { deliveryId: d.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Redeliver, { input: { deliveryId: d.id } }, { token: members[0].token })).toBe('FORBIDDEN');
    expect(await server.errorCode(Redeliver, { input: { deliveryId: hook.id } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    const NodeQ = graphql(`query WebhookDeliveryNode($id: ID!) { node(id: $id) { id } }`);
    expect(await server.errorCode(NodeQ, { id: d.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(NodeQ, { id: d.id }, { token: members[0].token })).toBe('NOT_FOUND');
    expect((await server.ok(NodeQ, { id: d.id }, { token: owner.token })).node).toMatchObject({ id: d.id });
  });
});
