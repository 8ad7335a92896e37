/**
 * Shared live execution and backpressure (src/live/hub.ts, src/live/sharing.ts, src/live/socket.ts):
 * subscribers sharing one execution get exactly what per-subscriber execution gives (the same
 * scenario on a server with `server.live_shared_execution = false`), viewer-dependent selections stay
 * per subscriber, a removed member gets nothing further, and a stalled socket is closed with 4413
 * while the others get every event, then resumes with afterSeq without gap or duplicate.
 */
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { domainPermissions, schema } from '../src/modules/index.ts';
import { liveSharedAllowlist, openFields } from '../src/auth/permissions.ts';
import { listedFields } from '../src/schema/selection-walk.ts';
import { isAuthenticated } from '../src/auth/rules.ts';
import { planSharing } from '../src/live/sharing.ts';
import { liveStats } from '../src/live/hub.ts';
import { SLOW_CONSUMER_CLOSE_CODE, wsStats } from '../src/live/socket.ts';
import { graphql } from './gql/index.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { createThread, send as sendThread } from './helpers/chat.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { kvWorld, SetKey } from './helpers/kv.ts';
import { openSession, settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation LiveCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation LiveSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const Edit = graphql(`
  mutation LiveEdit($input: EditMessageInput!) { editMessage(input: $input) { seq } }
`);
const Delete = graphql(`
  mutation LiveDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }
`);
const React = graphql(`
  mutation LiveReact($input: AddReactionInput!) { addReaction(input: $input) { seq } }
`);
const MarkRead = graphql(`
  mutation LiveMarkRead($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }
`);
const Typing = graphql(`
  mutation LiveTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);
const AddMembers = graphql(`
  mutation LiveAddMembers($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }
`);
const RemoveMember = graphql(`
  mutation LiveRemoveMember($input: RemoveRoomMemberInput!) { removeRoomMember(input: $input) { deletedId } }
`);

/** Every kind of room event, no ids (they differ between databases): shareable. */
const Shared = graphql(`
  subscription LiveShared($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { seq content deleted author { name } } }
      ... on RoomMessageEdited { seq message { content edits { content } } }
      ... on RoomMessageDeleted { seq message { content deleted } }
      ... on ReactionChanged { emoji added count user { name } message { seq reactions { emoji count } } }
      ... on ReadReceiptUpdated { seq user { name } }
      ... on TypingChanged { typing user { name } }
      ... on RoomMemberJoined { role user { name } }
      ... on RoomMemberLeft { user { name } }
    }
  }
`);
/** The same with viewer-dependent fields: executed per subscriber. */
const PerViewer = graphql(`
  subscription LivePerViewer($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { content room { unreadCount viewerRole } } }
      ... on ReactionChanged { emoji count message { reactions { emoji count reactedByViewer } } }
    }
  }
`);

type Event = { roomEvents: Record<string, any> };

async function collect(sub: LiveSubscription<any>, n: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const e = await sub.next(15_000);
    out.push(e.errors ? { errors: e.errors.map((x) => x.message) } : e.data);
  }
  return out;
}

/**
 * The same story on any server: owner, two members and a fourth who joins then is removed mid-stream.
 * Returns what each subscriber received, in order.
 */
async function scenario(server: TestServer) {
  const { org, owner, members } = await orgWithMembers(server, 3);
  const [a, b, late] = members as [TestUser, TestUser, TestUser];
  const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'live', memberIds: [a.id, b.id] } }, { token: owner.token });
  const roomId = createRoom.id;
  const subs = new Map<string, LiveSubscription<Event>>();
  for (const [name, u] of [['owner', owner], ['a', a], ['b', b]] as const) {
    const client = server.ws({ token: u.token });
    subs.set(name, subscribe(client, Shared, { roomId, afterSeq: 0 }));
  }
  const perViewer = new Map<string, LiveSubscription<Event>>();
  for (const [name, u] of [['owner', owner], ['a', a]] as const) perViewer.set(name, subscribe(server.ws({ token: u.token }), PerViewer, { roomId, afterSeq: 0 }));
  // A first message reaches everyone (replayed if it came before a subscription was live).
  const first = await server.ok(Send, { input: { roomId, content: 'hello' } }, { token: owner.token });
  for (const s of [...subs.values(), ...perViewer.values()]) await s.next(15_000);

  await server.ok(AddMembers, { input: { roomId, userIds: [late.id] } }, { token: owner.token });
  const lateSub = subscribe(server.ws({ token: late.token }), Shared, { roomId, afterSeq: 0 });
  // `late` is live once it hears its own message.
  await server.ok(Send, { input: { roomId, content: 'late here' } }, { token: late.token });
  await lateSub.next(15_000);

  const m = await server.ok(Send, { input: { roomId, content: 'second' } }, { token: a.token });
  await server.ok(Edit, { input: { messageId: m.sendMessage.id, content: 'second (edited)' } }, { token: a.token });
  await server.ok(React, { input: { messageId: first.sendMessage.id, emoji: '👍' } }, { token: a.token });
  await server.ok(MarkRead, { input: { roomId, seq: 2 } }, { token: b.token });
  await server.ok(Typing, { input: { roomId, typing: true } }, { token: b.token });
  await server.ok(Delete, { input: { messageId: m.sendMessage.id } }, { token: a.token });
  await server.ok(RemoveMember, { input: { roomId, userId: late.id } }, { token: owner.token });
  await server.ok(Send, { input: { roomId, content: 'after removal' } }, { token: owner.token });

  const received: Record<string, unknown[]> = {};
  // RoomMemberJoined, "late here", second, edited, reaction, read receipt, typing (not to b), deleted, RoomMemberLeft, after removal.
  for (const [name, s] of subs) received[name] = await collect(s, name === 'b' ? 9 : 10);
  // late: hello (replayed), then second, edited, reaction, read receipt, typing, deleted, its own RoomMemberLeft; then the stream ends.
  received.late = await collect(lateSub, 8);
  const lateEnd = await Promise.race([lateSub.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('still open'), 10_000))]);
  received.lateExtra = lateSub.received.slice(9).map((e) => e.data);
  const perViewerReceived: Record<string, Event[]> = {};
  // late here, second, reaction, after removal (the other kinds select nothing but __typename).
  for (const [name, s] of perViewer) perViewerReceived[name] = (await collect(s, 10)) as Event[];
  // Closed, so that nothing they might still get counts in a later test's executions (a process-wide counter).
  for (const s of [...subs.values(), ...perViewer.values(), lateSub]) s.close();
  return { received, lateEnd, perViewerReceived, roomId, owner, server };
}

describe('shared live execution', () => {
  let shared: TestServer;
  let unshared: TestServer;
  beforeAll(async () => {
    shared = await startServer();
    unshared = await startServer({ overrides: { server: { liveSharedExecution: false } } });
  });
  afterAll(async () => {
    await shared?.stop();
    await unshared?.stop();
  });

  it('decides shareability from the schema for every Subscription field', () => {
    const rules = {
      open: openFields(domainPermissions),
      openRoot: openFields(domainPermissions, [isAuthenticated]),
      shared: listedFields(schema, liveSharedAllowlist(domainPermissions)),
    };
    const plan = (q: string) => planSharing(schema, parse(q), undefined, rules);
    const fields = Object.keys(schema.getSubscriptionType()!.getFields()).sort();
    expect(fields).toEqual(['inbox', 'invoiceUpdated', 'kvEvents', 'membershipChanged', 'notifications', 'presence', 'roomEvents', 'sessionEvents', 'threadEvents']);
    const verdicts = {
      inbox: plan('subscription { inbox { __typename } }').shareable,
      invoiceUpdated: plan('subscription { invoiceUpdated(invoiceId: "x") { __typename } }').shareable,
      kvEvents: plan('subscription { kvEvents(kvInstanceId: "x") { __typename } }').shareable,
      membershipChanged: plan('subscription { membershipChanged(orgId: "x") { __typename } }').shareable,
      notifications: plan('subscription { notifications { __typename } }').shareable,
      presence: plan('subscription { presence(orgId: "x") { __typename } }').shareable,
      roomEvents: plan('subscription { roomEvents(roomId: "x") { __typename } }').shareable,
      sessionEvents: plan('subscription { sessionEvents(sessionId: "x") { __typename } }').shareable,
      threadEvents: plan('subscription { threadEvents(threadId: "x") { __typename } }').shareable,
    };
    // membershipChanged's own rule depends on the viewer's org role, re-checked per event: never shared.
    // The inbox carries each viewer's own counts: never shared.
    expect(verdicts).toEqual({
      inbox: false,
      invoiceUpdated: true,
      kvEvents: true,
      membershipChanged: false,
      notifications: true,
      presence: true,
      roomEvents: true,
      sessionEvents: true,
      threadEvents: true,
    });
    expect(plan(String(Shared)).shareable).toBe(true);
    const per = plan(String(PerViewer));
    expect(per.shareable).toBe(false);
    expect(per.reason).toMatch(/is not listed as shared/);
    // Sharing is an opt-in: a field that no domain listed is executed per subscriber, even when its rule is open.
    expect(plan('subscription { roomEvents(roomId: "x") { ... on RoomMessageAdded { message { room { unreadCount } } } } }').reason).toMatch(/Room.unreadCount is not listed/);
    // Every listed Type.field exists (a typo would silently share nothing).
    for (const entry of liveSharedAllowlist(domainPermissions)) {
      const [type, field] = entry.split('.');
      const t = schema.getType(type) as { getFields?: () => Record<string, unknown> } | undefined;
      expect(t?.getFields, `${entry}: no such type`).toBeTypeOf('function');
      if (field !== '*') expect(t!.getFields!()[field], `${entry}: no such field`).toBeDefined();
    }
    // A field with a rule of its own (an org's invites are for its admins) is not shared either.
    expect(plan('subscription { roomEvents(roomId: "x") { ... on RoomMessageAdded { message { room { org { invites(first: 1) { edges { node { id } } } } } } } } }').shareable).toBe(false);
  });

  it('delivers exactly what per-subscriber execution delivers, for every room event, with one execution per event', async () => {
    const before = { ...liveStats };
    const on = await scenario(shared);
    const during = { executions: liveStats.executions - before.executions, shared: liveStats.sharedDeliveries - before.sharedDeliveries };
    const off = await scenario(unshared);
    expect(on.received).toEqual(off.received);
    expect(on.lateEnd).toBe('ended');
    expect(off.lateEnd).toBe('ended');
    // Nothing after the removal reached the removed member, on either path.
    expect(on.received.lateExtra).toEqual([]);
    // Every kind arrived.
    const kinds = new Set((on.received.owner as Event[]).map((e) => e.roomEvents.__typename));
    expect([...kinds].sort()).toEqual(['ReactionChanged', 'ReadReceiptUpdated', 'RoomMemberJoined', 'RoomMemberLeft', 'RoomMessageAdded', 'RoomMessageDeleted', 'RoomMessageEdited', 'TypingChanged']);
    // Viewer-dependent fields differ per viewer, and match the per-subscriber server.
    expect(on.perViewerReceived).toEqual(off.perViewerReceived);
    const reaction = (r: Event[]) => r.find((e) => e.roomEvents.__typename === 'ReactionChanged')!.roomEvents.message.reactions[0].reactedByViewer;
    expect(reaction(on.perViewerReceived.a)).toBe(true);
    expect(reaction(on.perViewerReceived.owner)).toBe(false);
    // The shared path was taken: most deliveries reused an execution.
    expect(during.shared).toBeGreaterThan(during.executions);
  });

  it('executes a live event once for a group of subscribers, and per subscriber with sharing off', async () => {
    await countedExecutions([[shared, { executions: 1, shared: 4 }], [unshared, { executions: 0, shared: 0 }]]);
  });

  it.skipIf(!process.env.TEST_REDIS_URL)('shares across subscribers of an instance when events come through Redis', async () => {
    const redisServer = await startServer({ overrides: { redis: { url: process.env.TEST_REDIS_URL, keyPrefix: `live-shared-${Date.now()}:` } } });
    try {
      await countedExecutions([[redisServer, { executions: 1, shared: 4 }]]);
    } finally {
      await redisServer.stop();
    }
  });
});

/** Five members of a room in one group; one message after all are live: how many executions and reuses. */
async function countedExecutions(cases: Array<readonly [TestServer, { executions: number; shared: number }]>) {
  {
    for (const [server, expected] of cases) {
      const { org, owner, members } = await orgWithMembers(server, 4);
      const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'count', memberIds: members.map((m) => m.id) } }, { token: owner.token });
      const roomId = createRoom.id;
      const subs = [owner, ...members].map((u) => subscribe(server.ws({ token: u.token }), Shared, { roomId, afterSeq: 0 }));
      await server.ok(Send, { input: { roomId, content: 'warm-up' } }, { token: owner.token });
      for (const s of subs) await s.next(15_000);
      const before = { ...liveStats };
      await server.ok(Send, { input: { roomId, content: 'counted' } }, { token: owner.token });
      const got = await Promise.all(subs.map((s) => s.next(15_000)));
      expect(new Set(got.map((e) => JSON.stringify(e.data))).size).toBe(1);
      expect({ executions: liveStats.executions - before.executions, shared: liveStats.sharedDeliveries - before.sharedDeliveries }).toEqual(expected);
      for (const s of subs) s.close();
    }
  }
}

/** A raw graphql-transport-ws client whose socket can be paused. */
async function rawSubscriber(server: TestServer, token: string, roomId: string, afterSeq?: number, subscriptions = 1) {
  const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const seqs: number[] = [];
  let closeCode: number | undefined;
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve((closeCode = code))));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.type === 'connection_ack') {
        // Subscription 1 is the one whose seqs are checked; the others multiply what the socket must carry.
        for (let i = 1; i <= subscriptions; i++) {
          const query = 'subscription($r: ID!, $a: Int) { roomEvents(roomId: $r, afterSeq: $a) { ... on RoomMessageAdded { seq message { content } } } }';
          ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query, variables: { r: roomId, a: afterSeq } } }));
        }
        resolve();
      } else if (msg.type === 'next' && msg.id === '1' && msg.payload.data?.roomEvents?.seq) seqs.push(msg.payload.data.roomEvents.seq);
    });
  });
  return { ws, seqs, closed, code: () => closeCode };
}

describe('backpressure', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ overrides: { server: { wsMaxBufferedBytes: 256 * 1024 } } });
  });
  afterAll(() => server?.stop());

  it('closes a stalled socket with 4413 while others get every event; it resumes with afterSeq without gap or duplicate', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'slow', memberIds: [members[0].id] } }, { token: owner.token });
    const roomId = createRoom.id;
    const fast = await Promise.all([owner, members[0], owner].map((u) => rawSubscriber(server, u.token, roomId)));
    const slow = await rawSubscriber(server, members[0].token, roomId, undefined, 50);
    const waitFor = async (cond: () => boolean, what: string, ms = 30_000) => {
      for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error(`timed out: ${what}`);
    };
    await server.ok(Send, { input: { roomId, content: 'first' } }, { token: owner.token });
    await waitFor(() => [...fast, slow].every((s) => s.seqs.length === 1), 'first message everywhere');
    const closedBefore = wsStats.slowConsumersClosed;

    // The slow client stops reading; 80 messages of 4 KB to its 50 subscriptions (16 MB) outgrow every buffer on the way.
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const big = 'x'.repeat(3900);
    const total = 81;
    for (let i = 2; i <= total; i++) await server.ok(Send, { input: { roomId, content: `${i} ${big}` } }, { token: owner.token });
    await waitFor(() => fast.every((s) => s.seqs.length === total), 'every message at the fast subscribers');
    for (const s of fast) expect(s.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    await waitFor(() => wsStats.slowConsumersClosed > closedBefore, 'the slow socket closed');

    // Reading again, it drains what was sent, then the close frame with the code.
    (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect(await slow.closed).toBe(SLOW_CONSUMER_CLOSE_CODE);
    expect(slow.seqs.length).toBeLessThan(total);
    const last = slow.seqs[slow.seqs.length - 1];
    expect(slow.seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));

    const resumed = await rawSubscriber(server, members[0].token, roomId, last);
    await waitFor(() => resumed.seqs.length === total - last, 'the rest after resuming');
    expect([...slow.seqs, ...resumed.seqs]).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const s of [...fast, resumed]) s.ws.close();
  });
  it('one stalled socket delays nobody: the others get every event while it reads nothing, then it gets them all, in order', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'stall', memberIds: [members[0].id] } }, { token: owner.token });
    const roomId = createRoom.id;
    const fast = await Promise.all([owner, members[0], owner].map((u) => rawSubscriber(server, u.token, roomId)));
    const stalled = await rawSubscriber(server, members[0].token, roomId);
    const waitFor = async (cond: () => boolean, what: string, ms = 30_000) => {
      for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() > end) throw new Error(`timed out: ${what}`);
    };
    await server.ok(Send, { input: { roomId, content: 'first' } }, { token: owner.token });
    await waitFor(() => [...fast, stalled].every((s) => s.seqs.length === 1), 'first message everywhere');

    // It stops reading; what it is sent stays far below its buffer bound, so nothing closes it.
    const tcp = (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket;
    tcp.pause();
    const total = 30;
    for (let i = 2; i <= total; i++) await server.ok(Send, { input: { roomId, content: `m${i}` } }, { token: owner.token });
    await waitFor(() => fast.every((s) => s.seqs.length === total), 'every message at the other subscribers');
    for (const s of fast) expect(s.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // Meanwhile the stalled one had read nothing more, and is still open.
    expect(stalled.seqs).toEqual([1]);
    expect(stalled.code()).toBeUndefined();

    tcp.resume();
    await waitFor(() => stalled.seqs.length === total, 'the stalled subscriber catching up');
    expect(stalled.seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const s of [...fast, stalled]) s.ws.close();
  });
});

const RemoveOrgMember = graphql(`
  mutation LiveRemoveOrgMember($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }
`);
const KvEvents = graphql(`
  subscription LiveKvEvents($kvInstanceId: ID!, $afterVersion: Int) {
    kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) {
      __typename
      ... on KvKeyUpdated { version key { name value version updatedBy { name } } }
      ... on KvKeyDeleted { version name }
      ... on KvInstanceCleared { version }
    }
  }
`);
const KvDelete = graphql(`mutation LiveKvDelete($input: DeleteKvKeyInput!) { deleteKvKey(input: $input) { version } }`);
const KvClear = graphql(`mutation LiveKvClear($input: ClearKvInstanceInput!) { clearKvInstance(input: $input) { version } }`);
const ThreadEvents = graphql(`
  subscription LiveThreadEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) {
      __typename
      ... on ThreadMessageAdded { message { role status content author { name } } }
      ... on AssistantDelta { delta index }
      ... on AssistantDone { message { role status content } }
      ... on AssistantFailed { reason error }
      ... on ThreadUpdated { thread { title status messageCount lastMessage { seq content } } }
      ... on ThreadDeleted { __typename }
    }
  }
`);
const UpdateThread = graphql(`mutation LiveUpdateThread($input: UpdateThreadInput!) { updateThread(input: $input) { id } }`);
const DeleteThread = graphql(`mutation LiveDeleteThread($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const CreateProject = graphql(`mutation LiveCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const ShareProject = graphql(`mutation LiveShareProject($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const Presence = graphql(`
  subscription LivePresence($orgId: ID!) { presence(orgId: $orgId) { status user { name } } }
`);
const SetPresence = graphql(`mutation LiveSetPresence($input: SetPresenceInput!) { setPresence(input: $input) { status } }`);
const Notifications = graphql(`
  subscription LiveNotifications($orgId: ID) { notifications(orgId: $orgId) { topic payload acked org { name } } }
`);
const Notify = graphql(`mutation LiveNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }`);
const InvoiceUpdated = graphql(`
  subscription LiveInvoiceUpdated($id: ID!) { invoiceUpdated(invoiceId: $id) { kind state amountSats } }
`);
const SessionEvents = graphql(`
  subscription LiveSessionEvents($id: ID!) { sessionEvents(sessionId: $id) { __typename ... on SessionStateChanged { state balanceSats } } }
`);

/** Pulls events until `last` says the story is over (or `n` events). */
async function until(sub: LiveSubscription<any>, last: (e: any) => boolean, max = 200, timeoutMs = 15_000): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < max; i++) {
    const e = await sub.next(timeoutMs);
    out.push(e.errors ? { errors: e.errors.map((x) => x.message) } : e.data);
    if (last(e.data)) return out;
  }
  return out;
}

describe('shared execution, the other live event types and permission changes', () => {
  let shared: TestServer;
  let unshared: TestServer;
  const overrides = { realtime: { presenceGraceMs: 100 }, providers: { echo: { delayMs: 5 } }, paidSessions: { ttl: 3600 } };
  beforeAll(async () => {
    shared = await startServer({ overrides });
    unshared = await startServer({ overrides: { ...overrides, server: { liveSharedExecution: false } } });
  });
  afterAll(async () => {
    await shared?.stop();
    await unshared?.stop();
  });
  /** Runs the same story on both servers and expects the same deliveries. */
  const same = async (story: (server: TestServer) => Promise<unknown>) => {
    const before = { ...liveStats };
    const on = await story(shared);
    const reused = liveStats.sharedDeliveries - before.sharedDeliveries;
    const off = await story(unshared);
    expect(on).toEqual(off);
    return { on, reused };
  };

  it('a member removed from the org mid-stream gets nothing further; the rest of the group goes on', async () => {
    const server = shared;
    const { org, owner, members } = await orgWithMembers(server, 2);
    const [a, gone] = members as [TestUser, TestUser];
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'kick', memberIds: [a.id, gone.id] } }, { token: owner.token });
    const roomId = createRoom.id;
    const subs = [owner, a, gone].map((u) => subscribe(server.ws({ token: u.token }), Shared, { roomId, afterSeq: 0 }));
    await server.ok(Send, { input: { roomId, content: 'before' } }, { token: owner.token });
    for (const s of subs) expect(JSON.stringify((await s.next(15_000)).data)).toContain('"before"');
    await server.ok(RemoveOrgMember, { input: { orgId: org.id, userId: gone.id } }, { token: owner.token });
    await server.ok(Send, { input: { roomId, content: 'after' } }, { token: owner.token });
    await subs[2].ended;
    const stillHere = await Promise.all(subs.slice(0, 2).map((s) => until(s, (d) => d?.roomEvents?.message?.content === 'after')));
    for (const got of stillHere) expect(JSON.stringify(got)).toContain('"after"');
    expect(JSON.stringify(subs[2].received)).not.toContain('"after"');
  });

  it('kvEvents', async () => {
    const { reused } = await same(async (server) => {
      const world = await kvWorld(server);
      const { instanceId } = world;
      const subs = ['owner', 'admin', 'writer', 'reader'].map((who) => subscribe(server.ws(world.actors[who]), KvEvents, { kvInstanceId: instanceId, afterVersion: 0 }));
      await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: 'a', value: 'one' } }, world.actors.writer);
      for (const s of subs) await s.next(15_000);
      await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: 'b', value: 'two' } }, world.actors.writer);
      await server.ok(SetKey, { input: { kvInstanceId: instanceId, name: 'a', value: 'three' } }, world.actors.admin);
      await server.ok(KvDelete, { input: { kvInstanceId: instanceId, name: 'b' } }, world.actors.writer);
      await server.ok(KvClear, { input: { kvInstanceId: instanceId } }, world.actors.owner);
      return Promise.all(subs.map((s) => until(s, (d) => d.kvEvents.__typename === 'KvInstanceCleared')));
    });
    expect(reused).toBeGreaterThanOrEqual(3 * 4);
  });

  it('threadEvents (messages, streamed deltas, completion, thread updated and deleted)', { timeout: 90_000 }, async () => {
    const { reused } = await same(async (server) => {
      const { org, owner, members } = await orgWithMembers(server, 1);
      const reader = members[0];
      const { createProject } = await server.ok(CreateProject, { input: { orgId: org.id, name: 'P' } }, { token: owner.token });
      await server.ok(ShareProject, { input: { projectId: createProject.id, access: 'READ', userId: reader.id } }, { token: owner.token });
      const thread = await createThread(server, owner.token, org.id, 'T', createProject.id);
      const subs = [owner, owner, reader].map((u) => subscribe(server.ws({ token: u.token }), ThreadEvents, { threadId: thread.id }));
      // Until every subscription is live (a loaded machine), a turn is not heard by all: send until it is.
      const round = async (sub: LiveSubscription<any>, content: string) => {
        for (let user = false; ; ) {
          const e = await sub.next(1500).catch(() => undefined);
          if (!e) return false;
          const ev = (e.data as any)?.threadEvents;
          if (ev?.__typename === 'ThreadMessageAdded' && ev.message.content === content) user = true;
          if (ev?.__typename === 'AssistantDone' && user) return true;
        }
      };
      for (let i = 0; ; i++) {
        await sendThread(server, { token: owner.token }, thread.id, `hello ${i}`);
        if ((await Promise.all(subs.map((s) => round(s, `hello ${i}`)))).every(Boolean)) break;
        if (i > 10) throw new Error('subscriptions never live');
      }
      await sendThread(server, { token: owner.token }, thread.id, 'alpha beta gamma delta');
      const got = (await Promise.all(subs.map((s) => until(s, (d) => d.threadEvents.__typename === 'AssistantDone')))) as any[][];
      // On one server every subscriber gets the very same events (deltas included, chunk for chunk)...
      for (const g of got) expect(g).toEqual(got[0]);
      await server.ok(UpdateThread, { input: { threadId: thread.id, title: 'Renamed', status: 'ARCHIVED' } }, { token: owner.token });
      const updated = await Promise.all(subs.map((s) => until(s, (d) => d.threadEvents.__typename === 'ThreadUpdated')));
      for (const u of updated) expect(u).toEqual(updated[0]);
      await server.ok(DeleteThread, { input: { threadId: thread.id } }, { token: owner.token });
      const deleted = await Promise.all(subs.map((s) => until(s, (d) => d.threadEvents.__typename === 'ThreadDeleted')));
      await Promise.all(subs.map((s) => s.ended));
      // ...while how the reply is cut into deltas depends on timing, so servers are compared on the text.
      return got.map((g) =>
        g.reduce<any[]>((out, d) => {
          const ev = d.threadEvents;
          const prev = out.at(-1);
          if (ev.__typename === 'AssistantDelta' && prev?.__typename === 'AssistantDelta') prev.delta += ev.delta;
          else out.push(ev.__typename === 'AssistantDelta' ? { __typename: ev.__typename, delta: ev.delta } : ev);
          return out;
        }, []).concat(updated[0], deleted[0]),
      );
    });
    expect(reused).toBeGreaterThan(0);
  });

  it('presence', { timeout: 90_000 }, async () => {
    await same(async (server) => {
      const { org, owner, members } = await orgWithMembers(server, 2);
      const [a, mover] = members as [TestUser, TestUser];
      const moverClient = server.ws({ token: mover.token });
      const probe = subscribe(moverClient, Presence, { orgId: org.id }); // connects the mover: ONLINE
      const subs = [owner, a, a].map((u) => subscribe(server.ws({ token: u.token }), Presence, { orgId: org.id }));
      const moverIs = (status: string) => (d: any) => d.presence.user.name === 'Member 2' && d.presence.status === status;
      const heard = (sub: LiveSubscription<any>, status: string) => until(sub, moverIs(status), 20, 1500).then((got) => got.some((d) => moverIs(status)(d)), () => false);
      // Until every subscription is live (a loaded machine), toggle the mover's status until all hear it.
      let last = 'ONLINE';
      for (let i = 0; ; i++) {
        last = last === 'AWAY' ? 'ONLINE' : 'AWAY';
        await server.ok(SetPresence, { input: { status: last as 'AWAY' } }, { token: mover.token });
        const all = await Promise.all(subs.map((s) => heard(s, last)));
        if (all.every(Boolean)) break;
        if (i > 10) throw new Error('subscriptions never live');
      }
      // The warm-up took as many toggles as this machine needed: end it in one known state, so that both
      // servers then tell the same story.
      if (last !== 'ONLINE') {
        await server.ok(SetPresence, { input: { status: 'ONLINE' } }, { token: mover.token });
        await Promise.all(subs.map((s) => until(s, moverIs('ONLINE'))));
      }
      const story = ['AWAY', 'ONLINE'];
      for (const s of subs) s.received.length = 0;
      for (const status of story) {
        await server.ok(SetPresence, { input: { status: status as 'AWAY' } }, { token: mover.token });
        await Promise.all(subs.map((s) => until(s, moverIs(status))));
      }
      probe.close();
      await moverClient.dispose();
      await Promise.all(subs.map((s) => until(s, moverIs('OFFLINE'))));
      return subs.map((s) => s.received.map((e) => e.data).filter((d: any) => d.presence.user.name === 'Member 2'));
    });
  });

  it('notifications', async () => {
    const { reused } = await same(async (server) => {
      const { org, owner, members } = await orgWithMembers(server, 1);
      const m = members[0];
      // Two devices of one user share; the owner is a different viewer.
      const subs = [m, m, owner].map((u) => subscribe(server.ws({ token: u.token }), Notifications, { orgId: org.id }));
      await server.ok(Notify, { input: { orgId: org.id, topic: 'first', payload: { n: 0 }, targets: { userIds: [m.id, owner.id] } } }, { token: owner.token });
      // Stored then announced: each gets it once, replayed or live.
      for (const s of subs) await s.next(15_000);
      for (let n = 1; n <= 3; n++) await server.ok(Notify, { input: { orgId: org.id, topic: `t${n}`, payload: { n }, targets: { userIds: [m.id, owner.id] } } }, { token: owner.token });
      return Promise.all(subs.map((s) => until(s, (d) => d.notifications.topic === 't3')));
    });
    expect(reused).toBeGreaterThanOrEqual(3);
  });

  it('invoiceUpdated and sessionEvents', async () => {
    await same(async (server) => {
      const opened = await openSession(server, 1000);
      const auth = { token: opened.token };
      const invoices = [0, 1].map(() => subscribe(server.ws(auth), InvoiceUpdated, { id: opened.invoice.id }));
      const sessions = [0, 1].map(() => subscribe(server.ws(auth), SessionEvents, { id: opened.session.id }));
      for (const s of [...invoices, ...sessions]) await s.next(15_000); // the current state first
      await settle(server, opened.invoice.paymentHash);
      return {
        invoices: await Promise.all(invoices.map((s) => until(s, (d) => d.invoiceUpdated.state === 'PAID'))),
        sessions: await Promise.all(sessions.map((s) => until(s, (d) => d.sessionEvents.state === 'ACTIVE'))),
      };
    });
  });
});
