import { decodeGlobalID } from '@pothos/plugin-relay';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { uploadFile } from './helpers/attachments.ts';
import { createThread } from './helpers/chat.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { addMember, createApiKey, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const UpdateOrg = graphql(`
  mutation LifecycleUpdateOrg($input: UpdateOrgInput!) { updateOrg(input: $input) { id name slug retentionDays effectiveRetentionDays } }
`);
const DeleteOrg = graphql(`mutation LifecycleDeleteOrg($input: DeleteOrgInput!) { deleteOrg(input: $input) { deletedId } }`);
const Transfer = graphql(`
  mutation LifecycleTransfer($input: TransferOrgOwnershipInput!) { transferOrgOwnership(input: $input) { id viewerRole } }
`);
const OrgQuery = graphql(`
  query LifecycleOrg($id: ID!) {
    org(id: $id) { id name slug retentionDays effectiveRetentionDays members(first: 20) { edges { node { role user { id } } } } }
  }
`);
const CreateWebhook = graphql(`
  mutation LifecycleCreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }
`);
const CreateRoom = graphql(`mutation LifecycleCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`
  mutation LifecycleSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq attachments { id url } } }
`);
const RoomEvents = graphql(`
  subscription LifecycleRoomEvents($roomId: ID!) {
    roomEvents(roomId: $roomId) { __typename ... on RoomDeleted { roomId } ... on RoomMessageAdded { seq } }
  }
`);
const ThreadEvents = graphql(`
  subscription LifecycleThreadEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename ... on ThreadDeleted { threadId } } }
`);
const Inbox = graphql(`
  subscription LifecycleInbox { inbox { __typename ... on InboxRoomRemoved { roomId } ... on InboxRoomAdded { room { id } } } }
`);
const Membership = graphql(`
  subscription LifecycleMembership($orgId: ID!) { membershipChanged(orgId: $orgId) { userId role } }
`);

let server: TestServer;
let receiver: WebhookReceiver;
let dir: string;
const as = (u: TestUser) => ({ token: u.token });
const raw = (id: string) => decodeGlobalID(id).id;
const storedFiles = async () => (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.endsWith('.part'));

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  dir = await mkdtemp(join(tmpdir(), 'confab-lifecycle-'));
  server = await startServer({
    overrides: { webhooks: { allowPrivate: true, pollIntervalMs: 50, backoffBaseMs: 100, backoffMaxMs: 500 }, retention: { roomMessagesDays: 30 }, storage: { dir } },
  });
});
afterAll(async () => {
  await server.stop();
  await receiver.close();
});

/** An org with an OWNER, an ADMIN and a MEMBER, and a webhook of `events` at its own path. */
async function world(events: string[] = []) {
  const { org, owner, members } = await orgWithMembers(server, 2);
  const [admin, member] = members;
  await server.ok<any, any>(`mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }`, { input: { orgId: org.id, userId: admin.id, role: 'ADMIN' } }, as(owner));
  const path = `/hook/${raw(org.id)}`;
  const hook = events.length ? (await server.ok(CreateWebhook, { input: { orgId: org.id, url: `${receiver.url}${path}`, events: events as any } }, as(owner))).createWebhook : null;
  const hits = (type: string, n = 1) => receiver.waitFor(n, (h) => h.path === path && h.body.type === type, 10_000);
  return { org, owner, admin, member, hook, hits };
}

/** Triggers events until the subscription hears one (it is live from then on). */
async function live(sub: LiveSubscription<any>, trigger: () => Promise<unknown>) {
  for (let i = 0; i < 20; i++) {
    await trigger();
    if (await sub.next(500).catch(() => undefined)) return;
  }
  throw new Error('the subscription never heard its trigger');
}

/** The next event that `pick` accepts (earlier ones, such as late triggers, are skipped). */
async function nextOf<T>(sub: LiveSubscription<any>, pick: (data: any) => T | undefined): Promise<T> {
  for (;;) {
    const found = pick((await sub.next()).data);
    if (found !== undefined) return found;
  }
}

const audit = (orgId: string, action: string) => db.auditEntry.findMany({ where: { orgId: raw(orgId), action }, orderBy: { createdAt: 'asc' } });

describe('updateOrg', () => {
  it('lets an ADMIN rename the org and set its retention; announces ORG_UPDATED and audits before/after', async () => {
    const { org, admin, member, hook, hits } = await world(['ORG_UPDATED']);
    const { updateOrg } = await server.ok(UpdateOrg, { input: { orgId: org.id, name: 'Renamed', retentionDays: 7 } }, as(admin));
    expect(updateOrg).toMatchObject({ name: 'Renamed', slug: org.slug, retentionDays: 7, effectiveRetentionDays: 7 });
    // Members see it; null returns to the server's default (30 here).
    expect((await server.ok(OrgQuery, { id: org.id }, as(member))).org).toMatchObject({ retentionDays: 7, effectiveRetentionDays: 7 });
    const reset = await server.ok(UpdateOrg, { input: { orgId: org.id, retentionDays: null } }, as(admin));
    expect(reset.updateOrg).toMatchObject({ name: 'Renamed', retentionDays: null, effectiveRetentionDays: 30 });

    const [first, second] = await hits('ORG_UPDATED', 2);
    expect(verifySignature(first, hook!.secret).data).toEqual({ orgId: org.id, name: 'Renamed', slug: org.slug, retentionDays: 7, changed: ['name', 'retentionDays'] });
    expect(second.body.data).toMatchObject({ retentionDays: null, changed: ['retentionDays'] });
    const entries = await audit(org.id, 'org.update');
    expect(entries.map((e) => e.data)).toEqual([
      { before: { name: org.name, retentionDays: null }, after: { name: 'Renamed', retentionDays: 7 } },
      { before: { retentionDays: 7 }, after: { retentionDays: null } },
    ]);
    expect(entries[0].actorId).toBe(raw(admin.id));
  });

  it('changes nothing when nothing differs (no audit entry)', async () => {
    const { org, owner } = await world();
    await server.ok(UpdateOrg, { input: { orgId: org.id, name: org.name, slug: org.slug } }, as(owner));
    expect(await audit(org.id, 'org.update')).toEqual([]);
  });

  it('leaves the slug to OWNERs, refuses taken and malformed values, and changes nothing on refusal', async () => {
    const { org, owner, admin, member } = await world();
    const other = await createOrg(server, owner, 'Other');
    expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, name: 'Sneaky', slug: `new-${raw(org.id)}` } }, as(admin))).toBe('FORBIDDEN');
    expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, name: 'Member' } }, as(member))).toBe('FORBIDDEN');
    expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, name: 'Taken', slug: other.slug } }, as(owner))).toBe('CONFLICT');
    for (const input of [{ slug: 'Bad Slug!' }, { slug: 'a--b' }, { name: '  ' }, { retentionDays: 0 }, { retentionDays: 3651 }]) {
      expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, ...input } }, as(owner)), JSON.stringify(input)).toBe('BAD_USER_INPUT');
    }
    expect((await server.ok(OrgQuery, { id: org.id }, as(owner))).org).toMatchObject({ name: org.name, slug: org.slug, retentionDays: null });
    const slug = `moved-${Date.now().toString(36)}`;
    expect((await server.ok(UpdateOrg, { input: { orgId: org.id, slug } }, as(owner))).updateOrg.slug).toBe(slug);
  });

  it('is NOT_FOUND to another org and refused to API keys', async () => {
    const { org, owner } = await world();
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, name: 'x' } }, as(stranger))).toBe('NOT_FOUND');
    const { key } = await createApiKey(server, owner, org.id, ['READ', 'WRITE']);
    expect(await server.errorCode(UpdateOrg, { input: { orgId: org.id, name: 'x' } }, { apiKey: key })).toBe('FORBIDDEN');
  });
});

describe('transferOrgOwnership', () => {
  it('makes the member OWNER and the owner ADMIN in one step, with events, a webhook and an audit entry', async () => {
    const { org, owner, member, hook, hits } = await world(['ORG_OWNERSHIP_TRANSFERRED']);
    const changes = subscribe(server.ws(as(member)), Membership, { orgId: org.id });
    await live(changes, () => server.ok<any, any>(`mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }`, { input: { orgId: org.id, userId: member.id, role: 'MEMBER' } }, as(owner)));
    const { transferOrgOwnership } = await server.ok(Transfer, { input: { orgId: org.id, userId: member.id } }, as(owner));
    expect(transferOrgOwnership.viewerRole).toBe('ADMIN');
    const roles = Object.fromEntries((await server.ok(OrgQuery, { id: org.id }, as(member))).org!.members.edges.map((e) => [e.node.user.id, e.node.role]));
    expect(roles).toMatchObject({ [owner.id]: 'ADMIN', [member.id]: 'OWNER' });
    const roleOf = (userId: string) => (d: any) => (d.membershipChanged.userId === userId && d.membershipChanged.role !== 'MEMBER' ? d.membershipChanged.role : undefined);
    expect(await nextOf(changes, roleOf(member.id))).toBe('OWNER');
    expect(changes.received.map((e) => e.data!.membershipChanged)).toContainEqual({ userId: owner.id, role: 'ADMIN' });
    changes.close();
    const [hit] = await hits('ORG_OWNERSHIP_TRANSFERRED');
    expect(verifySignature(hit, hook!.secret).data).toEqual({ orgId: org.id, fromUserId: owner.id, toUserId: member.id });
    const [entry] = await audit(org.id, 'org.ownership.transfer');
    expect(entry).toMatchObject({ actorId: raw(owner.id), targetType: 'User', targetId: raw(member.id), data: { targetRoleBefore: 'MEMBER' } });
    // The old owner may no longer transfer or delete.
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: owner.id } }, as(owner))).toBe('FORBIDDEN');
  });

  it('refuses ADMINs and MEMBERs (FORBIDDEN), non-members and other orgs (NOT_FOUND), and yourself (BAD_USER_INPUT)', async () => {
    const { org, owner, admin, member } = await world();
    const stranger = await registerUser(server);
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: member.id } }, as(admin))).toBe('FORBIDDEN');
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: admin.id } }, as(member))).toBe('FORBIDDEN');
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: stranger.id } }, as(owner))).toBe('NOT_FOUND');
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: owner.id } }, as(stranger))).toBe('NOT_FOUND');
    expect(await server.errorCode(Transfer, { input: { orgId: org.id, userId: owner.id } }, as(owner))).toBe('BAD_USER_INPUT');
    const roles = (await server.ok(OrgQuery, { id: org.id }, as(owner))).org!.members.edges.map((e) => e.node.role).sort();
    expect(roles).toEqual(['ADMIN', 'MEMBER', 'OWNER']);
    expect(await audit(org.id, 'org.ownership.transfer')).toEqual([]);
  });

  it('two transfers at once leave exactly one OWNER', async () => {
    const { org, owner, admin, member } = await world();
    const results = await Promise.all([admin, member].map((to) => server.gql(Transfer, { input: { orgId: org.id, userId: to.id } }, as(owner))));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const roles = (await server.ok(OrgQuery, { id: org.id }, as(admin))).org!.members.edges.map((e) => e.node.role);
    expect(roles.filter((r) => r === 'OWNER')).toHaveLength(1);
    expect(await audit(org.id, 'org.ownership.transfer')).toHaveLength(1);
  });
});

describe('deleteOrg', () => {
  it('refuses a wrong confirmSlug (nothing deleted), ADMINs and MEMBERs, API keys, and other orgs', async () => {
    const { org, owner, admin, member } = await world();
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    const { key } = await createApiKey(server, owner, org.id, ['READ', 'WRITE']);
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: `${org.slug}x` } }, as(owner))).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(admin))).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(member))).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, { apiKey: key })).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(stranger))).toBe('NOT_FOUND');
    expect((await server.ok(OrgQuery, { id: org.id }, as(owner))).org!.members.edges).toHaveLength(3);
    expect((await server.ok(OrgQuery, { id: org.id }, { apiKey: key })).org!.id).toBe(org.id);
  });

  it('deletes everything, ends live streams, refuses its API keys at once, deletes stored files and tells its webhooks', async () => {
    const { org, owner, member, hook, hits } = await world(['ORG_DELETED', 'MEMBER_LEFT']);
    const roomId = (await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'doomed', memberIds: [member.id] } }, as(owner))).createRoom.id;
    const fileId = await uploadFile(server, member.token, org.id, 'doomed.txt', 'text/plain', Buffer.from('bytes to delete'));
    await server.ok(Send, { input: { roomId, content: 'with a file', attachmentIds: [fileId] } }, as(member));
    const thread = await createThread(server, owner.token, org.id, 'doomed thread');
    const { key } = await createApiKey(server, owner, org.id, ['READ']);
    expect((await server.ok(OrgQuery, { id: org.id }, { apiKey: key })).org!.id).toBe(org.id);
    expect(await storedFiles()).toHaveLength(1);

    const roomEvents = subscribe(server.ws(as(member)), RoomEvents, { roomId });
    const threadEvents = subscribe(server.ws(as(owner)), ThreadEvents, { threadId: thread.id });
    const inbox = subscribe(server.ws(as(member)), Inbox, {});
    const keyStream = subscribe(server.ws({ apiKey: key }), Membership, { orgId: org.id });
    // Each stream is live once it hears something sent after it started.
    const say = () => server.ok(Send, { input: { roomId, content: 'live' } }, as(owner));
    await live(roomEvents, say);
    await live(inbox, say);
    await live(threadEvents, () => server.ok<any, any>(`mutation($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { __typename } }`, { input: { threadId: thread.id, role: 'USER', content: 'live' } }, as(owner)));
    await server.ok(UpdateOrg, { input: { orgId: org.id, name: 'Last words' } }, as(owner));

    const { deleteOrg } = await server.ok(DeleteOrg, { input: { orgId: org.id, confirmSlug: ` ${org.slug} ` } }, as(owner));
    expect(deleteOrg.deletedId).toBe(org.id);

    // API keys are refused at once, by HTTP, and their sockets' streams end.
    expect(await server.errorCode(OrgQuery, { id: org.id }, { apiKey: key })).toBe('UNAUTHENTICATED');
    await keyStream.ended;
    expect(await nextOf(roomEvents, (d) => (d.roomEvents.__typename === 'RoomDeleted' ? d.roomEvents : undefined))).toEqual({ __typename: 'RoomDeleted', roomId });
    expect(await roomEvents.ended).toBeUndefined();
    expect(await nextOf(threadEvents, (d) => (d.threadEvents.__typename === 'ThreadDeleted' ? d.threadEvents : undefined))).toEqual({ __typename: 'ThreadDeleted', threadId: thread.id });
    expect(await threadEvents.ended).toBeUndefined();
    expect(await nextOf(inbox, (d) => (d.inbox.__typename === 'InboxRoomRemoved' ? d.inbox : undefined))).toEqual({ __typename: 'InboxRoomRemoved', roomId });
    inbox.close();

    expect(await server.errorCode(OrgQuery, { id: org.id }, as(owner))).toBe('NOT_FOUND');
    expect(await server.errorCode(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(owner))).toBe('NOT_FOUND');
    const orgId = raw(org.id);
    const left = await Promise.all([
      db.room.count({ where: { orgId } }),
      db.roomMessage.count({ where: { roomId: raw(roomId) } }),
      db.thread.count({ where: { orgId } }),
      db.apiKey.count({ where: { orgId } }),
      db.membership.count({ where: { orgId } }),
      db.webhook.count({ where: { orgId } }),
      db.attachment.count({ where: { orgId } }),
      db.session.count({ where: { orgId } }),
      db.auditEntry.count({ where: { orgId } }),
    ]);
    expect(left).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await storedFiles()).toEqual([]);
    // The users stay.
    expect(await db.user.count({ where: { id: { in: [raw(owner.id), raw(member.id)] } } })).toBe(2);

    const [hit] = await hits('ORG_DELETED');
    expect(verifySignature(hit, hook!.secret).data).toEqual({ orgId: org.id, name: 'Last words', slug: org.slug, deletedById: owner.id });
    expect(hit.headers['confab-event-type']).toBe('ORG_DELETED');
  });

  it('retries ORG_DELETED from memory while the receiver fails', async () => {
    const { org, owner, hits } = await world(['ORG_DELETED']);
    let refusals = 1;
    const previous = receiver.respond;
    receiver.respond = (h) => (h.body.type === 'ORG_DELETED' && h.path.endsWith(raw(org.id)) && refusals-- > 0 ? 503 : 200);
    try {
      await server.ok(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(owner));
      const [failed, delivered] = await hits('ORG_DELETED', 2);
      expect([failed.status, delivered.status]).toEqual([503, 200]);
      expect(delivered.body.id).toBe(failed.body.id);
    } finally {
      receiver.respond = previous;
    }
  });

  it('two deletes at once: one wins, the other is NOT_FOUND', async () => {
    const { org, owner } = await world();
    const results = await Promise.all([0, 1].map(() => server.gql(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(owner))));
    expect(results.filter((r) => r.data?.deleteOrg?.deletedId === org.id)).toHaveLength(1);
    expect(results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('leaves other orgs alone, and their members keep their other orgs', async () => {
    const { org, owner, member } = await world();
    const kept = await createOrg(server, owner, 'Kept');
    await addMember(server, kept.id, owner, member);
    await server.ok(DeleteOrg, { input: { orgId: org.id, confirmSlug: org.slug } }, as(owner));
    expect((await server.ok(OrgQuery, { id: kept.id }, as(member))).org!.members.edges).toHaveLength(2);
  });
});
