/**
 * Privacy (issue 22): exportMyData's archive holds the user's own data and nobody else's, through a signed link
 * that expires and that a password change voids; deleteAccount erases personal data, ends sessions and
 * sockets, and keeps (anonymize) or deletes their room messages per privacy.on_delete.
 */
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { connectSocket } from './helpers/accounts.ts';
import { uploadFile, until } from './helpers/attachments.ts';
import { createThread, send as sendThread } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createApiKey, orgWithMembers, PASSWORD, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Export = graphql(`
  mutation PrivacyExport($input: ExportMyDataInput!) { exportMyData(input: $input) { url expiresAt } }
`);
const Delete = graphql(`
  mutation PrivacyDelete($input: DeleteAccountInput!) { deleteAccount(input: $input) { deletedId } }
`);
const ChangePassword = graphql(`
  mutation PrivacyChangePassword($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken } }
`);
const CreateRoom = graphql(`
  mutation PrivacyCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const SendRoom = graphql(`
  mutation PrivacySend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const React = graphql(`
  mutation PrivacyReact($input: AddReactionInput!) { addReaction(input: $input) { id } }
`);
const RoomMessages = graphql(`
  query PrivacyRoom($id: ID!) {
    room(id: $id) {
      members(first: 10) { edges { node { user { id } } } }
      messages(first: 50) { edges { node { id seq content deleted author { id name email deleted } } } }
    }
  }
`);
const Events = graphql(`
  subscription PrivacyEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename ... on RoomMemberLeft { userId reason } ... on RoomMessageDeleted { message { id deleted } } }
  }
`);
const Login = graphql(`mutation PrivacyLogin($input: LoginInput!) { login(input: $input) { accessToken } }`);
const Register = graphql(`mutation PrivacyRegister($input: RegisterInput!) { register(input: $input) { user { id } } }`);
const Me = graphql(`query PrivacyMe { me { id } }`);
const OrgQuery = graphql(`query PrivacyOrg($id: ID!) { org(id: $id) { id members(first: 10) { edges { node { user { id } } } } } }`);
const Notify = graphql(`mutation PrivacyNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }`);

let server: TestServer;
let deleting: TestServer;
let quick: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { privacy: { exportUrlTtlSec: 60 } } });
  // The same database (the process has one database client, closed by any server's stop): with
  // privacy.on_delete = delete, and with export links good for a second.
  deleting = await startServer({ database: server.database, overrides: { privacy: { onDelete: 'delete' } } });
  quick = await startServer({ database: server.database, overrides: { privacy: { exportUrlTtlSec: 1 } } });
});
afterAll(async () => {
  await quick?.stop();
  await deleting?.stop();
  await server?.stop();
});

/** An org with an owner and a member sharing a room, each with messages; the member reacted to the owner's. */
async function sharedRoom(s: TestServer) {
  const { org, owner, members } = await orgWithMembers(s, 1);
  const member = members[0];
  const { createRoom } = await s.ok(CreateRoom, { input: { orgId: org.id, name: 'general', type: 'GROUP', memberIds: [member.id] } }, { token: owner.token });
  const roomId = createRoom.id;
  const secret = `owner-private-${Math.random().toString(36).slice(2)}`;
  const ownerMsg = (await s.ok(SendRoom, { input: { roomId, content: secret } }, { token: owner.token })).sendMessage;
  const mine = `member-says-${Math.random().toString(36).slice(2)}`;
  const memberMsgs = [];
  for (const i of [1, 2]) memberMsgs.push((await s.ok(SendRoom, { input: { roomId, content: `${mine}-${i}` } }, { token: member.token })).sendMessage);
  await s.ok(React, { input: { messageId: ownerMsg.id, emoji: '👍' } }, { token: member.token });
  return { org, owner, member, roomId, secret, mine, ownerMsg, memberMsgs };
}

async function download(url: string) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('exportMyData', () => {
  it('links to a zip of the user’s own data: profile, memberships, their messages, threads, notifications, reactions, uploads, keys; nothing of others', async () => {
    const world = await sharedRoom(server);
    const { member, owner, org } = world;
    const thread = await createThread(server, member.token, org.id, 'My thread');
    await sendThread(server, { token: member.token }, thread.id, 'thread question');
    const key = await createApiKey(server, owner, org.id, ['NOTIFY']);
    await server.ok(Notify, { input: { orgId: org.id, topic: 'news', payload: { hello: 'member' }, targets: { userIds: [member.id] } } }, { apiKey: key.key });
    await uploadFile(server, member.token, org.id, 'notes.txt', 'text/plain', Buffer.from('my notes'));
    // A key the member made in an org of their own.
    const own = await orgWithMembers(server);
    await addMember(server, own.org.id, own.owner, member, 'ADMIN');
    const memberKey = await createApiKey(server, member, own.org.id, ['READ']);

    const { exportMyData } = await server.ok(Export, { input: {} }, { token: member.token });
    expect(Date.parse(exportMyData.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const got = await download(exportMyData.url);
    expect(got).toMatchObject({ status: 200, type: 'application/zip' });
    const files = Object.fromEntries(Object.entries(unzipSync(got.bytes)).map(([name, bytes]) => [name.replace('confab-export/', ''), JSON.parse(strFromU8(bytes))]));
    expect(Object.keys(files).sort()).toEqual(
      ['apiKeys', 'blockedUsers', 'memberships', 'notifications', 'profile', 'pushSubscriptions', 'reactions', 'roomMemberships', 'roomMessages', 'threads', 'uploads'].map((f) => `${f}.json`),
    );
    expect(files['profile.json']).toMatchObject({ id: member.id, email: member.email, name: member.name });
    expect(files['memberships.json'].map((m: any) => m.org.id).sort()).toEqual([org.id, own.org.id].sort());
    expect(files['roomMemberships.json']).toEqual([expect.objectContaining({ room: expect.objectContaining({ id: world.roomId, name: 'general' }) })]);
    expect(files['roomMessages.json'].map((m: any) => m.content)).toEqual([`${world.mine}-1`, `${world.mine}-2`]);
    expect(files['threads.json']).toEqual([expect.objectContaining({ id: thread.id, title: 'My thread' })]);
    expect(files['threads.json'][0].messages.map((m: any) => m.role)).toEqual(['USER', 'ASSISTANT']);
    expect(files['notifications.json']).toEqual([expect.objectContaining({ topic: 'news', payload: { hello: 'member' } })]);
    expect(files['reactions.json']).toEqual([expect.objectContaining({ messageId: world.ownerMsg.id, emoji: '👍' })]);
    expect(files['uploads.json']).toEqual([expect.objectContaining({ filename: 'notes.txt', byteSize: 8 })]);
    expect(files['apiKeys.json']).toEqual([expect.objectContaining({ id: memberKey.apiKey.id, prefix: memberKey.apiKey.prefix })]);
    // Nothing of anyone else: not the owner's message, not their email, not the key's secret.
    const all = strFromU8(got.bytes);
    for (const text of [world.secret, owner.email, key.key, memberKey.key]) expect(JSON.stringify(files)).not.toContain(text);
    expect(all).not.toContain(world.secret);

    const json = await download((await server.ok(Export, { input: { format: 'JSON' } }, { token: member.token })).exportMyData.url);
    expect(json.type).toContain('application/json');
    expect(JSON.parse(strFromU8(json.bytes))).toMatchObject({ profile: { id: member.id }, roomMessages: files['roomMessages.json'] });
  });

  it('refuses a tampered link, an expired one, and one voided by a password change; is limited to 5 an hour', async () => {
    const user = await registerUser(server);
    const { exportMyData } = await server.ok(Export, { input: {} }, { token: user.token });
    const tampered = await fetch(exportMyData.url.replace(/token=.{4}/, 'token=AAAA'));
    expect(tampered.status).toBe(403);
    expect(await tampered.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', reason: 'URL_INVALID' } }] });
    await server.ok(ChangePassword, { input: { currentPassword: PASSWORD, newPassword: 'another password' } }, { token: user.token });
    const voided = await fetch(exportMyData.url);
    expect(await voided.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', reason: 'URL_REVOKED' } }] });

    const token = (await quick.ok(Login, { input: { email: user.email, password: 'another password' } })).login.accessToken;
    const short = (await quick.ok(Export, { input: {} }, { token })).exportMyData;
    await until(short.expiresAt);
    expect(await (await fetch(short.url)).json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', reason: 'URL_EXPIRED' } }] });
    // Five links an hour (one made already on this server, which counts in memory without Redis).
    const results = await Promise.all(Array.from({ length: 5 }, () => quick.gql(Export, { input: {} }, { token })));
    expect(results.filter((r) => r.data?.exportMyData)).toHaveLength(4);
    expect(results.filter((r) => r.errors?.[0].extensions?.code === 'RATE_LIMITED')).toHaveLength(1);
    expect(await server.errorCode(Export, { input: {} })).toBe('UNAUTHENTICATED');
  });
});

describe('deleteAccount', () => {
  it('wrong password: BAD_USER_INPUT and nothing changes', async () => {
    const user = await registerUser(server);
    const res = await server.gql(Delete, { input: { password: 'not my password' } }, { token: user.token });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    await server.ok(Me, {}, { token: user.token });
    await server.ok(Login, { input: { email: user.email, password: PASSWORD } });
    expect(await server.errorCode(Delete, { input: { password: PASSWORD } })).toBe('UNAUTHENTICATED');
  });

  it('anonymize (default): erases the person, keeps their messages as "Deleted user", ends their sockets, tells the room; the email can register again', async () => {
    const world = await sharedRoom(server);
    const { owner, member, roomId } = world;
    const upload = await uploadFile(server, member.token, world.org.id, 'mine.txt', 'text/plain', Buffer.from('bytes of mine'));
    const events = subscribe(server.ws({ token: owner.token }), Events, { roomId, afterSeq: world.memberMsgs[1].seq });
    const device = connectSocket(server, { token: member.token });
    await device.acknowledged;
    // The owner's subscription is live once a message sent after its cursor comes through it (replayed or live).
    await server.ok(SendRoom, { input: { roomId, content: 'ready?' } }, { token: owner.token });
    expect((await events.next()).data?.roomEvents.__typename).toBe('RoomMessageAdded');

    const { deleteAccount } = await server.ok(Delete, { input: { password: PASSWORD } }, { token: member.token });
    expect(deleteAccount.deletedId).toBe(member.id);
    expect((await device.closed).code).toBe(4403);
    expect((await events.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberLeft', userId: member.id, reason: 'ACCOUNT_DELETED' });
    expect(await server.errorCode(Me, {}, { token: member.token })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Login, { input: { email: member.email, password: PASSWORD } })).toBe('UNAUTHENTICATED');

    const { room } = await server.ok(RoomMessages, { id: roomId }, { token: owner.token });
    expect(room!.members.edges.map((e) => e.node.user.id)).toEqual([owner.id]);
    const theirs = room!.messages.edges.map((e) => e.node).filter((m) => m.author?.id === member.id);
    expect(theirs.map((m) => m.content)).toEqual([`${world.mine}-1`, `${world.mine}-2`]);
    for (const m of theirs) expect(m.author).toEqual({ id: member.id, name: 'Deleted user', email: `deleted-${rawId(member)}@deleted.invalid`, deleted: true });
    const org = await server.ok(OrgQuery, { id: world.org.id }, { token: owner.token });
    expect(org.org!.members.edges.map((e) => e.node.user.id)).toEqual([owner.id]);
    // Their uploads are gone.
    expect((await server.gql(graphql(`query PrivacyNode($id: ID!) { node(id: $id) { id } }`), { id: upload }, { token: owner.token })).data?.node ?? null).toBeNull();

    // The org's audit log keeps who left and why.
    const { db } = await import('../src/db/client.ts');
    const audit = await db.auditEntry.findMany({ where: { orgId: rawId({ id: world.org.id }), action: 'org.member.remove' } });
    expect(audit).toEqual([expect.objectContaining({ actorId: rawId(member), targetType: 'User', targetId: rawId(member), data: { reason: 'ACCOUNT_DELETED', role: 'MEMBER' } })]);

    const again = await server.ok(Register, { input: { email: member.email, password: PASSWORD, name: 'Back again' } });
    expect(again.register.user.id).not.toBe(member.id);
  });

  it('privacy.on_delete = delete: their room messages are deleted as deleteMessage does, and the room is told', async () => {
    const world = await sharedRoom(deleting);
    const { owner, member, roomId } = world;
    const events = subscribe(deleting.ws({ token: owner.token }), Events, { roomId, afterSeq: world.memberMsgs[1].seq });
    await deleting.ok(SendRoom, { input: { roomId, content: 'ready?' } }, { token: owner.token });
    expect((await events.next()).data?.roomEvents.__typename).toBe('RoomMessageAdded');

    await deleting.ok(Delete, { input: { password: PASSWORD } }, { token: member.token });
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await events.next()).data?.roomEvents);
    expect(seen).toEqual(
      expect.arrayContaining([
        { __typename: 'RoomMemberLeft', userId: member.id, reason: 'ACCOUNT_DELETED' },
        ...world.memberMsgs.map((m) => ({ __typename: 'RoomMessageDeleted', message: { id: m.id, deleted: true } })),
      ]),
    );
    const { room } = await deleting.ok(RoomMessages, { id: roomId }, { token: owner.token });
    const messages = room!.messages.edges.map((e) => e.node);
    for (const m of messages.filter((x) => x.author?.id === member.id)) expect(m).toMatchObject({ content: null, deleted: true });
    expect(messages.find((m) => m.id === world.ownerMsg.id)).toMatchObject({ content: world.secret, deleted: false });
    expect(JSON.stringify(messages)).not.toContain(world.mine);
  });

  it('an owner of an org with other members must hand it over first (CONFLICT); orgs where they are alone go with them', async () => {
    const { org, owner } = await orgWithMembers(server, 1);
    const res = await server.gql(Delete, { input: { password: PASSWORD } }, { token: owner.token });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', reason: 'OWNS_ORGS', orgIds: [org.id] });
    expect((await server.ok(OrgQuery, { id: org.id }, { token: owner.token })).org!.members.edges).toHaveLength(2);

    const solo = await registerUser(server);
    const { createOrg } = await server.ok(graphql(`mutation PrivacyCreateOrg($input: CreateOrgInput!) { createOrg(input: $input) { id } }`), { input: { name: 'Solo', slug: `solo-${Date.now().toString(36)}` } }, { token: solo.token });
    // The org's bot (its API key) has a socket open: the key goes with the org, and the socket closes.
    const key = await createApiKey(server, solo, createOrg.id, ['READ']);
    const bot = connectSocket(server, { apiKey: key.key });
    await bot.acknowledged;

    await server.ok(Delete, { input: { password: PASSWORD } }, { token: solo.token });
    expect((await bot.closed).code).toBe(4403);
    const { db } = await import('../src/db/client.ts');
    expect(await db.org.count({ where: { id: rawId({ id: createOrg.id }) } })).toBe(0);
  });
});

/** The database id inside a global ID. */
function rawId(u: Pick<TestUser, 'id'>): string {
  return Buffer.from(u.id, 'base64').toString().split(':').slice(1).join(':');
}
