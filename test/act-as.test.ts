import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation ActAsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation ActAsSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq content viaApiKeyId author { id } } }
`);
const RoomQuery = graphql(`
  query ActAsRoom($id: ID!) { room(id: $id) { id lastSeq viewerRole messages(last: 50) { edges { node { seq content viaApiKeyId author { id } reactions { emoji reactedByViewer } } } } } }
`);
const React = graphql(`
  mutation ActAsReact($input: AddReactionInput!) { addReaction(input: $input) { reactions { emoji count reactedByViewer } } }
`);
const MarkRead = graphql(`
  mutation ActAsMarkRead($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }
`);
const Typing = graphql(`
  mutation ActAsTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);
const Me = graphql(`
  query ActAsMe { me { id } }
`);
const SendAndPresence = graphql(`
  mutation ActAsMixed($input: SendMessageInput!) { sendMessage(input: $input) { seq } setPresence(input: { status: AWAY }) { status } }
`);
const CreateProject = graphql(`
  mutation ActAsCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }
`);
const CreateKey = graphql(`
  mutation ActAsCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }
`);
const Events = graphql(`
  subscription ActAsEvents($roomId: ID!) {
    roomEvents(roomId: $roomId) {
      __typename
      ... on RoomMessageAdded { seq message { content viaApiKeyId author { id } } }
      ... on TypingChanged { userId typing }
    }
  }
`);
const Presence = graphql(`
  subscription ActAsPresence($orgId: ID!) { presence(orgId: $orgId) { status } }
`);

const raw = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1];
const logLines: Record<string, unknown>[] = [];
let server: TestServer;
let orgId: string;
let owner: TestUser;
let alice: TestUser;
let roomId: string;
let actKey: { key: string; apiKey: { id: string } };
beforeAll(async () => {
  const sink = new Writable({ write: (chunk, _enc, cb) => (logLines.push(JSON.parse(String(chunk))), cb()) });
  server = await startServer({ logger: pino({ level: 'info' }, sink) });
  const o = await orgWithMembers(server, 1);
  ({ owner } = o);
  orgId = o.org.id;
  alice = o.members[0];
  roomId = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'support', memberIds: [alice.id] } }, { token: owner.token })).createRoom.id;
  actKey = await createApiKey(server, owner, orgId, ['ACT_AS']);
});

const as = (user: TestUser | string, key = actKey.key) => ({ apiKey: key, headers: { 'x-acting-user': typeof user === 'string' ? user : user.id } });

describe('ACT_AS over HTTP', () => {
  it('sends, reads, reacts, marks read and types as the member; the message is theirs, via the key', async () => {
    const { sendMessage } = await server.ok(Send, { input: { roomId, content: 'hello from the backend' } }, as(alice));
    expect(sendMessage).toMatchObject({ content: 'hello from the backend', author: { id: alice.id }, viaApiKeyId: actKey.apiKey.id });
    await server.ok(React, { input: { messageId: sendMessage.id, emoji: '👍' } }, as(alice));
    const { room } = await server.ok(RoomQuery, { id: roomId }, as(alice));
    expect(room!.viewerRole).toBe('MEMBER');
    expect(room!.messages.edges.at(-1)?.node).toMatchObject({ seq: sendMessage.seq, author: { id: alice.id }, reactions: [{ emoji: '👍', reactedByViewer: true }] });
    expect((await server.ok(MarkRead, { input: { roomId, seq: sendMessage.seq } }, as(alice))).markRead.lastReadSeq).toBe(sendMessage.seq);
    expect((await server.ok(Typing, { input: { roomId, typing: true } }, as(alice))).setTyping.typing).toBe(true);
    // Sent by the member themselves: no key recorded.
    const own = await server.ok(Send, { input: { roomId, content: 'me myself' } }, { token: alice.token });
    expect(own.sendMessage.viaApiKeyId).toBeNull();
  });

  it('logs each acting operation with both identities', async () => {
    await server.ok(RoomQuery, { id: roomId }, as(alice));
    const line = logLines.find((l) => l.msg === 'acting as user' && (l.fields as string[])?.includes('Query.room'));
    expect(line).toMatchObject({ apiKeyId: raw(actKey.apiKey.id), actingUserId: raw(alice.id), userId: raw(alice.id), orgId: raw(orgId) });
    expect(line!.requestId).toBeTruthy();
  });

  it('refuses every operation that is not a room operation, whole: nothing runs', async () => {
    const me = await server.gql(Me, {}, as(alice));
    expect(me.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    expect(me.errors?.[0].message).toContain('Query.me');
    const project = await server.gql(CreateProject, { input: { orgId, name: 'nope' } }, as(alice));
    expect(project.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    const before = (await server.ok(RoomQuery, { id: roomId }, as(alice))).room!.lastSeq;
    const mixed = await server.gql(SendAndPresence, { input: { roomId, content: 'should not land' } }, as(alice));
    expect(mixed.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    expect((await server.ok(RoomQuery, { id: roomId }, as(alice))).room!.lastSeq).toBe(before);
    // The OpenAI-compatible API refuses the header too.
    const rest = await fetch(`${server.origin}/v1/models`, { headers: { 'x-api-key': actKey.key, 'x-acting-user': alice.id } });
    expect(rest.status).toBe(403);
  });

  it('refuses other credentials, keys without ACT_AS, project keys and malformed IDs', async () => {
    const refused = async (auth: object, code: string, reason?: string) => {
      const res = await server.gql(RoomQuery, { id: roomId }, auth);
      expect(res.errors?.[0].extensions).toMatchObject({ code, ...(reason ? { reason } : {}) });
      expect(res.data ?? null).toBeNull();
    };
    await refused({ token: owner.token, headers: { 'x-acting-user': alice.id } }, 'FORBIDDEN', 'ACT_AS_REFUSED');
    await refused({ headers: { 'x-acting-user': alice.id } }, 'FORBIDDEN', 'ACT_AS_REFUSED');
    const plain = await createApiKey(server, owner, orgId, ['READ', 'WRITE', 'NOTIFY', 'CHAT']);
    await refused(as(alice, plain.key), 'FORBIDDEN', 'ACT_AS_REFUSED');
    const projectId = (await server.ok(CreateProject, { input: { orgId, name: 'p' } }, { token: owner.token })).createProject.id;
    expect(await server.errorCode(CreateKey, { input: { orgId, projectId, name: 'k', scopes: ['ACT_AS'] } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    const projectKey = (await server.ok(CreateKey, { input: { orgId, projectId, name: 'k', scopes: ['READ'] } }, { token: owner.token })).createApiKey.key;
    await refused(as(alice, projectKey), 'FORBIDDEN', 'ACT_AS_REFUSED');
    await refused(as('not-an-id'), 'BAD_USER_INPUT');
    await refused(as(roomId), 'BAD_USER_INPUT');
    await refused(as(''), 'BAD_USER_INPUT');
  });

  it('cannot act as a non-member or a user of another org, nor reach the member’s rooms in other orgs', async () => {
    const loner = await registerUser(server);
    const other = await orgWithMembers(server, 0);
    expect(await server.errorCode(RoomQuery, { id: roomId }, as(loner))).toBe('NOT_FOUND');
    expect(await server.errorCode(RoomQuery, { id: roomId }, as(other.owner))).toBe('NOT_FOUND');
    // Alice also belongs to another org; the key of this org does not reach her rooms there.
    await addMember(server, other.org.id, other.owner, alice);
    const elsewhere = (await server.ok(CreateRoom, { input: { orgId: other.org.id, type: 'GROUP', name: 'x', memberIds: [alice.id] } }, { token: other.owner.token }))
      .createRoom.id;
    expect((await server.ok(RoomQuery, { id: elsewhere }, { token: alice.token })).room!.id).toBe(elsewhere);
    expect(await server.errorCode(RoomQuery, { id: elsewhere }, as(alice))).toBe('NOT_FOUND');
    expect(await server.errorCode(Send, { input: { roomId: elsewhere, content: 'x' } }, as(alice))).toBe('NOT_FOUND');
    expect(await server.errorCode(CreateRoom, { input: { orgId: other.org.id, type: 'GROUP', name: 'y' } }, as(alice))).toBe('NOT_FOUND');
    // Another org's ACT_AS key cannot act as this org's member who is not theirs.
    const theirKey = await createApiKey(server, other.owner, other.org.id, ['ACT_AS']);
    expect(await server.errorCode(RoomQuery, { id: roomId }, as(owner, theirKey.key))).toBe('NOT_FOUND');
  });
});

describe('ACT_AS over WebSocket', () => {
  it('streams roomEvents as the member (connectionParams actingUser) and sends as them', async () => {
    const client = server.ws({ apiKey: actKey.key, connectionParams: { actingUser: alice.id } });
    const sub = subscribe(client, Events, { roomId });
    // The subscription is live once an event published after it started arrives: the owner toggles typing until one does.
    let first;
    for (let i = 0; !first && i < 20; i++) {
      await server.ok(Typing, { input: { roomId, typing: i % 2 === 0 } }, { token: owner.token });
      const e = (await sub.next(1000).catch(() => undefined))?.data?.roomEvents;
      if (e?.__typename === 'TypingChanged' && e.userId === owner.id) first = e;
    }
    expect(first).toMatchObject({ __typename: 'TypingChanged', userId: owner.id });
    await server.ok(Send, { input: { roomId, content: 'over the socket' } }, as(alice));
    let added;
    while (!added) {
      const e = (await sub.next()).data!.roomEvents;
      if (e.__typename === 'RoomMessageAdded') added = e;
    }
    expect(added.message).toMatchObject({ content: 'over the socket', author: { id: alice.id }, viaApiKeyId: actKey.apiKey.id });
    sub.close();
  });

  it('refuses non-room subscriptions, and closes the connection (4403) for refused acting', async () => {
    const presence = subscribe(server.ws({ apiKey: actKey.key, connectionParams: { actingUser: alice.id } }), Presence, { orgId });
    expect(await presence.rejection()).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' } });
    const stranger = await registerUser(server);
    for (const params of [{ apiKey: actKey.key, connectionParams: { actingUser: stranger.id } }, { token: owner.token, connectionParams: { actingUser: alice.id } }]) {
      const client = server.ws(params);
      const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
      const sub = subscribe(client, Events, { roomId });
      expect(await closed).toBe(4403);
      await expect(sub.ended).resolves.toBeDefined();
    }
  });
});

// ── Issue 17.4: an acting key stays in its org, and reaches rooms only, all the way down. ──

const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const MISSING_ROOM = gid('Room', 'c0000000000000000000000000');

/** One operation on a fresh socket acting as `user`: its result, or the error it was refused with. */
async function overWs(user: TestUser, doc: string, variables: Record<string, unknown> = {}) {
  const sub = subscribe<any, any>(server.ws({ apiKey: actKey.key, connectionParams: { actingUser: user.id } }), doc, variables);
  await sub.ended;
  return { data: sub.received.find((r) => r.data)?.data, error: await sub.rejection() };
}

const RoomById = `query($id: ID!) { room(id: $id) { id name messages(last: 50) { edges { node { content } } } } }`;
const JoinRoom = `mutation($input: JoinRoomInput!) { joinRoom(input: $input) { id name } }`;
const SendRaw = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;
const Members = `query($id: ID!) { room(id: $id) { lastSeq members(first: 50) { edges { node { user { id } } } } } }`;

describe("ACT_AS stays inside the key's org", () => {
  // Alice belongs to the key's org and to org B; Bob to org B only.
  let b: Awaited<ReturnType<typeof orgWithMembers>>;
  let bob: TestUser;
  let bRoom: string;
  let bChannel: string;
  let bMessage: string;
  /** How a room that does not exist answers the same operation: another org's must answer the same. */
  const missing = async (doc: string, vars: (id: string) => Record<string, unknown>) => (await server.gql(doc, vars(MISSING_ROOM), as(alice))).errors;

  beforeAll(async () => {
    b = await orgWithMembers(server, 1);
    bob = b.members[0];
    await addMember(server, b.org.id, b.owner, alice);
    const create = `mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }`;
    bRoom = (await server.ok<any, any>(create, { input: { orgId: b.org.id, type: 'GROUP', name: 'b-room', memberIds: [alice.id, bob.id] } }, { token: b.owner.token })).createRoom.id;
    bChannel = (await server.ok<any, any>(create, { input: { orgId: b.org.id, type: 'CHANNEL', name: 'b-channel' } }, { token: b.owner.token })).createRoom.id;
    bMessage = (await server.ok<any, any>(SendRaw.replace('{ seq }', '{ id seq }'), { input: { roomId: bRoom, content: 'org B secret' } }, { token: b.owner.token })).sendMessage.id;
  });

  it("cannot join another org's channel, though the user may (the answer is a missing room's)", async () => {
    const refused = await server.gql<any, any>(JoinRoom, { input: { roomId: bChannel } }, as(alice));
    expect(refused.errors).toEqual(await missing(JoinRoom, (id) => ({ input: { roomId: id } })));
    expect(refused.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(refused.data?.joinRoom ?? null).toBeNull();
    const after = await server.ok<any, any>(Members, { id: bChannel }, { token: b.owner.token });
    expect(after.room.members.edges.map((e: any) => e.node.user.id)).not.toContain(alice.id);
    // Over a socket opened with actingUser, the same.
    const ws = await overWs(alice, JoinRoom, { input: { roomId: bChannel } });
    expect(ws.error?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await server.ok<any, any>(Members, { id: bChannel }, { token: b.owner.token })).room.members.edges).toHaveLength(1);
    // Alice herself may join it: the key is what is confined.
    expect((await server.ok<any, any>(JoinRoom, { input: { roomId: bChannel } }, { token: alice.token })).joinRoom.id).toBe(bChannel);
    expect(await server.errorCode(RoomById, { id: bChannel }, as(alice))).toBe('NOT_FOUND');
  });

  it("cannot read, write in or touch another org's room she belongs to, over HTTP or a socket", async () => {
    const read = await server.gql(RoomById, { id: bRoom }, as(alice));
    expect(read.errors).toEqual(await missing(RoomById, (id) => ({ id })));
    expect(JSON.stringify(read)).not.toContain('org B secret');
    const before = (await server.ok<any, any>(Members, { id: bRoom }, { token: b.owner.token })).room.lastSeq;
    for (const [doc, vars] of [
      [SendRaw, { input: { roomId: bRoom, content: 'x' } }],
      [`mutation($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }`, { input: { roomId: bRoom, seq: 1 } }],
      [`mutation($input: SetTypingInput!) { setTyping(input: $input) { typing } }`, { input: { roomId: bRoom, typing: true } }],
      [`mutation($input: AddReactionInput!) { addReaction(input: $input) { id } }`, { input: { messageId: bMessage, emoji: '👍' } }],
      [`mutation($input: EditMessageInput!) { editMessage(input: $input) { id } }`, { input: { messageId: bMessage, content: 'edited' } }],
      [`mutation($input: UpdateRoomInput!) { updateRoom(input: $input) { id } }`, { input: { roomId: bRoom, topic: 'x' } }],
      [`mutation($input: LeaveRoomInput!) { leaveRoom(input: $input) { roomId } }`, { input: { roomId: bRoom } }],
      [`mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, { input: { orgId: b.org.id, type: 'GROUP', name: 'x' } }],
    ] as const) {
      expect(await server.errorCode(doc, vars, as(alice)), doc).toBe('NOT_FOUND');
      expect((await overWs(alice, doc, vars)).error?.extensions?.code, doc).toBe('NOT_FOUND');
    }
    expect((await overWs(alice, RoomById, { id: bRoom })).error?.extensions?.code).toBe('NOT_FOUND');
    const after = await server.ok<any, any>(`query($id: ID!) { room(id: $id) { lastSeq topic members(first: 50) { edges { node { user { id } } } } messages(last: 50) { edges { node { content reactions { emoji } } } } } }`, { id: bRoom }, { token: b.owner.token });
    expect(after.room).toMatchObject({ lastSeq: before, topic: null, messages: { edges: [{ node: { content: 'org B secret', reactions: [] } }] } });
    expect(after.room.members.edges.map((e: any) => e.node.user.id)).toContain(alice.id);
  });

  it("cannot subscribe to another org's room events", async () => {
    const doc = `subscription($roomId: ID!) { roomEvents(roomId: $roomId, afterSeq: 0) { __typename ... on RoomMessageAdded { message { content } } } }`;
    const sub = subscribe<any, any>(server.ws({ apiKey: actKey.key, connectionParams: { actingUser: alice.id } }), doc, { roomId: bRoom });
    expect(await sub.rejection()).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(JSON.stringify(sub.received)).not.toContain('org B secret');
  });

  it('cannot open a DM in another org, nor with someone of another org', async () => {
    const open = `mutation($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }`;
    expect(await server.errorCode(open, { input: { orgId: b.org.id, userId: bob.id } }, as(alice))).toBe('NOT_FOUND');
    expect(await server.errorCode(open, { input: { orgId, userId: bob.id } }, as(alice))).toBe('NOT_FOUND');
    expect((await overWs(alice, open, { input: { orgId: b.org.id, userId: bob.id } })).error?.extensions?.code).toBe('NOT_FOUND');
    // Alice herself can, in org B: the refusal is the key's.
    expect((await server.ok<any, any>(open, { input: { orgId: b.org.id, userId: bob.id } }, { token: alice.token })).openDirectRoom.id).toBeTruthy();
  });

  it("finds none of another org's objects by node(id), and its own rooms still", async () => {
    const node = `query($id: ID!) { node(id: $id) { id __typename ... on Room { name } ... on RoomMessage { content } } }`;
    for (const id of [bRoom, bChannel, bMessage, MISSING_ROOM]) {
      const res = await server.gql<any, any>(node, { id }, as(alice));
      expect(res, id).toEqual({ status: 200, data: { node: null }, errors: [expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })], headers: res.headers });
      expect((await overWs(alice, node, { id })).data, id).toEqual({ node: null });
    }
    // Nor users or orgs, of either org: node(id) shows an acting key rooms and their messages only.
    for (const id of [bob.id, alice.id, b.org.id, orgId]) {
      const res = await server.gql<any, any>(`query($id: ID!) { node(id: $id) { id } }`, { id }, as(alice));
      expect(res.data?.node, id).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code), id).toEqual(['NOT_FOUND']);
    }
    const nodes = await server.gql<any, any>(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Room { name } } }`, { ids: [bRoom, roomId, bMessage] }, as(alice));
    expect(nodes.data?.nodes).toEqual([null, { id: roomId, name: 'support' }, null]);
    expect(nodes.errors?.map((e) => [e.path?.join('.'), e.extensions?.code]).sort()).toEqual([['nodes.0', 'NOT_FOUND'], ['nodes.2', 'NOT_FOUND']]);
  });

  it("lists none of the user's rooms: the user's room list is the user's, not the key's", async () => {
    // The list is on me (Viewer) alone: a member reached through a room has none.
    const lists = [`query { me { rooms(first: 5) { edges { node { id name } } } } }`, `query { me { rooms(first: 5, orgId: "${b.org.id}") { edges { node { id } } } } }`];
    for (const doc of lists) {
      const res = await server.gql<any, any>(doc, { id: roomId }, as(alice));
      expect(res.errors?.[0].extensions, doc).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
      expect(res.data ?? null, doc).toBeNull();
      expect(JSON.stringify(res)).not.toContain(bRoom);
      expect((await overWs(alice, doc, { id: roomId })).error?.extensions, doc).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    }
  });
});

describe('ACT_AS reaches rooms only, all the way down', () => {
  const ADMIN_REACH = `query($id: ID!) {
    room(id: $id) { id org {
      threads(first: 5) { edges { node { id title } } }
      webhooks(first: 5) { edges { node { id url deliveries(first: 5) { edges { node { payload } } } } } }
      apiKeys(first: 5) { edges { node { id name } } }
      invites(first: 5) { edges { node { id } } }
      usage(from: "2026-01-01", to: "2026-12-31") { messageCount records(first: 5) { edges { node { model } } } } } } }`;

  /** Refused whole before it runs, naming the first `Type.field` out of reach, over HTTP and over a socket. */
  async function refused(doc: string, variables: Record<string, unknown>, field: string) {
    const res = await server.gql<any, any>(doc, variables, as(owner));
    expect(res.errors, doc).toHaveLength(1);
    expect(res.errors![0].extensions, doc).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    expect(res.errors![0].message, doc).toContain(field);
    expect(res.data ?? null, doc).toBeNull();
    const ws = await overWs(owner, doc, variables);
    expect(ws.error, doc).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' } });
    expect(ws.error!.message, doc).toContain(field);
    expect(ws.data ?? null, doc).toBeNull();
  }

  it("refuses a room's org and everything under it, acting as an OWNER", async () => {
    await refused(ADMIN_REACH, { id: roomId }, 'Room.org');
  });

  it('refuses the same through fragments, inline fragments, aliases, @skip, node(id) and nodes(ids)', async () => {
    const variants: [string, Record<string, unknown>, string][] = [
      [`query($id: ID!) { room(id: $id) { ...R } } fragment R on Room { id org { apiKeys(first: 5) { edges { node { name } } } } }`, { id: roomId }, 'Room.org'],
      [`query($id: ID!) { room(id: $id) { ... on Room { ... { o: org { name } } } } }`, { id: roomId }, 'Room.org'],
      [`query($id: ID!) { ok: room(id: $id) { id } sneaky: room(id: $id) { place: org { slug } } }`, { id: roomId }, 'Room.org'],
      [`query($id: ID!, $no: Boolean = true) { room(id: $id) { id org @skip(if: $no) { name } } }`, { id: roomId }, 'Room.org'],
      [`query($id: ID!) { node(id: $id) { id ... on Org { name invites(first: 5) { edges { node { id } } } } } }`, { id: orgId }, 'Org.name'],
      [`query($id: ID!) { node(id: $id) { ...O } } fragment O on Org { webhooks(first: 5) { edges { node { url } } } }`, { id: orgId }, 'Org.webhooks'],
      [`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Room { name } ... on Org { slug } } }`, { ids: [roomId, orgId] }, 'Org.slug'],
      [`query($id: ID!) { node(id: $id) { ... on Room { lastMessage { room { org { id } } } } } }`, { id: roomId }, 'Room.org'],
      [`query($id: ID!) { room(id: $id) { messages(last: 5) { edges { node { author { id name email } } } } } }`, { id: roomId }, 'User.email'],
      [`query($id: ID!) { room(id: $id) { members(first: 5) { edges { node { user { createdAt } } } } } }`, { id: roomId }, 'User.createdAt'],
      [`query($id: ID!) { room(id: $id) { messages(last: 5) { edges { node { author { ...T } } } } } } fragment T on User { lastSeenAt }`, { id: roomId }, 'User.lastSeenAt'],
      [`query($id: ID!) { room(id: $id) { id } me { id } }`, { id: roomId }, 'Query.me'],
      [`query { __schema { types { name } } }`, {}, 'Query.__schema'],
    ];
    for (const [doc, vars, field] of variants) await refused(doc, vars, field);
  });

  it('refuses a mutation with a nested selection out of reach before it runs: nothing is sent', async () => {
    const before = (await server.ok(RoomQuery, { id: roomId }, as(alice))).room!.lastSeq;
    const doc = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq room { org { apiKeys(first: 5) { edges { node { name } } } } } } }`;
    await refused(doc, { input: { roomId, content: 'must not land' } }, 'Room.org');
    const viaFragment = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq ...S } } fragment S on RoomMessage { author { email } }`;
    await refused(viaFragment, { input: { roomId, content: 'must not land either' } }, 'User.email');
    const after = await server.ok(RoomQuery, { id: roomId }, { token: owner.token });
    expect(after.room!.lastSeq).toBe(before);
    expect(after.room!.messages.edges.map((e) => e.node.content)).not.toContain('must not land');
  });

  it('refuses a room subscription whose events would carry fields out of reach', async () => {
    const doc = `subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ... on RoomMessageAdded { message { author { email } } } ... on TypingChanged { user { id } } } }`;
    const sub = subscribe<any, any>(server.ws({ apiKey: actKey.key, connectionParams: { actingUser: alice.id } }), doc, { roomId });
    expect(await sub.rejection()).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' }, message: expect.stringContaining('User.email') });
    const viaUser = `subscription($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMemberJoined { user { createdAt } } } }`;
    const sub2 = subscribe<any, any>(server.ws({ apiKey: actKey.key, connectionParams: { actingUser: alice.id } }), viaUser, { roomId });
    expect(await sub2.rejection()).toMatchObject({ extensions: { code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' }, message: expect.stringContaining('User.createdAt') });
  });

  it('still answers room operations with the people’s id and name, and node(id) of its rooms', async () => {
    const sent = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename seq author { __typename id name } room { id name } } }`;
    const { sendMessage } = await server.ok<any, any>(sent, { input: { roomId, content: 'within reach' } }, as(alice));
    expect(sendMessage).toMatchObject({ __typename: 'RoomMessage', author: { __typename: 'User', id: alice.id, name: alice.name }, room: { id: roomId, name: 'support' } });
    const read = `query($id: ID!) {
      room(id: $id) { ...Room latest: messages(last: 5) { edges { node { content author { id name } reactions { emoji } edits { content } } } }
        messages(first: 5) { pageInfo { hasNextPage } edges { cursor node { seq } } } }
      node(id: $id) { __typename id ... on Room { name members(first: 5) { edges { node { role user { id name } } } } } } }
      fragment Room on Room { id type name topic lastSeq viewerRole unreadCount lastMessage { content author { name } } }`;
    const http = await server.gql<any, any>(read, { id: roomId }, as(alice));
    const ws = await overWs(alice, read, { id: roomId });
    expect(http.errors).toBeUndefined();
    expect(ws.error).toBeUndefined();
    for (const res of [http, ws]) {
      expect(res.data.room).toMatchObject({ id: roomId, name: 'support', viewerRole: 'MEMBER', lastMessage: { content: 'within reach', author: { name: alice.name } } });
      expect(res.data.room.latest.edges.at(-1).node).toMatchObject({ content: 'within reach', author: { id: alice.id, name: alice.name } });
      expect(res.data.node.members.edges.map((e: any) => e.node.user.id)).toEqual(expect.arrayContaining([owner.id, alice.id]));
    }
  });
});
