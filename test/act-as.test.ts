import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createApiKey, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation ActAsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation ActAsSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq content viaApiKeyId sender { id } } }
`);
const RoomQuery = graphql(`
  query ActAsRoom($id: ID!) { room(id: $id) { id lastSeq viewerRole messages { seq content viaApiKeyId sender { id } reactions { emoji reactedByViewer } } } }
`);
const React = graphql(`
  mutation ActAsReact($input: ReactionInput!) { addReaction(input: $input) { reactions { emoji count reactedByViewer } } }
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
      ... on RoomMessageAdded { seq message { content viaApiKeyId sender { id } } }
      ... on Typing { userId typing }
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
    expect(sendMessage).toMatchObject({ content: 'hello from the backend', sender: { id: alice.id }, viaApiKeyId: actKey.apiKey.id });
    await server.ok(React, { input: { messageId: sendMessage.id, emoji: '👍' } }, as(alice));
    const { room } = await server.ok(RoomQuery, { id: roomId }, as(alice));
    expect(room.viewerRole).toBe('MEMBER');
    expect(room.messages.at(-1)).toMatchObject({ seq: sendMessage.seq, sender: { id: alice.id }, reactions: [{ emoji: '👍', reactedByViewer: true }] });
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
    const before = (await server.ok(RoomQuery, { id: roomId }, as(alice))).room.lastSeq;
    const mixed = await server.gql(SendAndPresence, { input: { roomId, content: 'should not land' } }, as(alice));
    expect(mixed.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACT_AS_NOT_ALLOWED' });
    expect((await server.ok(RoomQuery, { id: roomId }, as(alice))).room.lastSeq).toBe(before);
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
    expect((await server.ok(RoomQuery, { id: elsewhere }, { token: alice.token })).room.id).toBe(elsewhere);
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
      if (e?.__typename === 'Typing' && e.userId === owner.id) first = e;
    }
    expect(first).toMatchObject({ __typename: 'Typing', userId: owner.id });
    await server.ok(Send, { input: { roomId, content: 'over the socket' } }, as(alice));
    let added;
    while (!added) {
      const e = (await sub.next()).data!.roomEvents;
      if (e.__typename === 'RoomMessageAdded') added = e;
    }
    expect(added.message).toMatchObject({ content: 'over the socket', sender: { id: alice.id }, viaApiKeyId: actKey.apiKey.id });
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
