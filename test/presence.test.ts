import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation PresenceCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const SetTyping = graphql(`
  mutation PresenceSetTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);
const SetPresence = graphql(`
  mutation PresenceSet($input: SetPresenceInput!) { setPresence(input: $input) { status } }
`);
const UserPresence = graphql(`
  query PresenceOfUser($id: ID!) { node(id: $id) { ... on User { presence lastSeenAt } } }
`);
const Events = graphql(`
  subscription PresenceRoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename ... on TypingChanged { typing userId user { name } } }
  }
`);
const Send = graphql(`
  mutation PresenceSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }
`);
const Changes = graphql(`
  subscription PresenceChanges($orgId: ID!) { presence(orgId: $orgId) { userId status lastSeenAt user { id } } }
`);

const realtime = { presenceGraceMs: 300, typingTtlMs: 400, typingThrottleMs: 10_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: TestServer;
let owner: TestUser;
let alice: TestUser;
let orgId: string;

beforeAll(async () => {
  server = await startServer({ overrides: { realtime } });
  const o = await orgWithMembers(server, 1);
  owner = o.owner;
  alice = o.members[0];
  orgId = o.org.id;
});

const presenceOf = async (user: TestUser, viewer: TestUser, s = server) =>
  ((await s.ok(UserPresence, { id: user.id }, { token: viewer.token })).node as { presence: string; lastSeenAt: string | null }) ?? null;

describe('typing', () => {
  it('announces typing once per throttle window and ends it by itself when not renewed', async () => {
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 't', memberIds: [alice.id] } }, { token: owner.token });
    const sub = subscribe(server.ws({ token: owner.token }), Events, { roomId: createRoom.id, afterSeq: 0 });
    // Live once a first message arrives (replayed if it came before the stream listened).
    await server.ok(Send, { input: { roomId: createRoom.id, content: 'hi' } }, { token: alice.token });
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomMessageAdded' });
    await server.ok(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: alice.token });
    await server.ok(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: alice.token });
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'TypingChanged', typing: true, userId: alice.id, user: { name: alice.name } });
    // The renewal was throttled; the indicator then expires without another call.
    expect((await sub.next()).data!.roomEvents).toMatchObject({ typing: false, userId: alice.id });
    await server.ok(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: alice.token });
    expect((await sub.next()).data!.roomEvents).toMatchObject({ typing: true });
    await server.ok(SetTyping, { input: { roomId: createRoom.id, typing: false } }, { token: alice.token });
    expect((await sub.next()).data!.roomEvents).toMatchObject({ typing: false });
    await sub.expectSilence(600);
    // The typist does not hear their own indicator; outsiders cannot type in the room.
    const outsider = await registerUser(server);
    expect(await server.errorCode(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: outsider.token })).toBe('NOT_FOUND');
  });
});

describe('presence', () => {
  it('is ONLINE while connected, AWAY when the client says so, OFFLINE after the grace period', async () => {
    const watcher = subscribe(server.ws({ token: owner.token }), Changes, { orgId });
    await sleep(150);
    expect((await presenceOf(alice, owner)).presence).toBe('OFFLINE');
    const client = server.ws({ token: alice.token });
    const conn = subscribe(client, Changes, { orgId });
    expect((await watcher.next()).data!.presence).toMatchObject({ userId: alice.id, status: 'ONLINE', user: { id: alice.id } });
    expect((await presenceOf(alice, owner)).presence).toBe('ONLINE');
    await server.ok(SetPresence, { input: { status: 'AWAY' } }, { token: alice.token });
    expect((await watcher.next()).data!.presence).toMatchObject({ userId: alice.id, status: 'AWAY' });
    expect((await presenceOf(alice, owner)).presence).toBe('AWAY');
    await server.ok(SetPresence, { input: { status: 'ONLINE' } }, { token: alice.token });
    expect((await watcher.next()).data!.presence).toMatchObject({ status: 'ONLINE' });
    conn.close();
    await client.dispose();
    // Still ONLINE during the grace period, then OFFLINE with lastSeenAt.
    expect((await presenceOf(alice, owner)).presence).toBe('ONLINE');
    const offline = (await watcher.next(3000)).data!.presence;
    expect(offline).toMatchObject({ userId: alice.id, status: 'OFFLINE' });
    expect(offline.lastSeenAt).toBeTruthy();
    expect(await presenceOf(alice, owner)).toMatchObject({ presence: 'OFFLINE', lastSeenAt: offline.lastSeenAt });
    watcher.close();
  });

  it('does not flap when a user reconnects within the grace period, and honours AWAY in connectionParams', async () => {
    const watcher = subscribe(server.ws({ token: owner.token }), Changes, { orgId });
    await sleep(150);
    const first = server.ws({ token: alice.token, connectionParams: { presence: 'AWAY' } });
    const s1 = subscribe(first, Changes, { orgId });
    expect((await watcher.next()).data!.presence).toMatchObject({ status: 'AWAY' });
    s1.close();
    await first.dispose();
    const second = server.ws({ token: alice.token, connectionParams: { presence: 'AWAY' } });
    const s2 = subscribe(second, Changes, { orgId });
    await watcher.expectSilence(700);
    expect((await presenceOf(alice, owner)).presence).toBe('AWAY');
    s2.close();
    await second.dispose();
    expect((await watcher.next(3000)).data!.presence).toMatchObject({ status: 'OFFLINE' });
    watcher.close();
  });

  it('refuses the presence stream of an org to outsiders', async () => {
    const outsider = await registerUser(server);
    const sub = subscribe(server.ws({ token: outsider.token }), Changes, { orgId });
    await sub.ended;
    expect(sub.received[0].errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await server.errorCode(UserPresence, { id: alice.id }, { token: outsider.token })).toBe('NOT_FOUND');
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('presence and typing across two instances (Redis)', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startServer({ overrides: { realtime, redis: { url: process.env.TEST_REDIS_URL } } });
    b = await startServer({ database: a.database, overrides: { realtime, redis: { url: process.env.TEST_REDIS_URL } } });
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
  });

  it('shows a user connected to A as ONLINE to a viewer on B, and OFFLINE after they leave', async () => {
    const o = await orgWithMembers(a, 1);
    const [bea] = o.members;
    const watcher = subscribe(b.ws({ token: o.owner.token }), Changes, { orgId: o.org.id });
    await sleep(200);
    const client = a.ws({ token: bea.token });
    const conn = subscribe(client, Changes, { orgId: o.org.id });
    expect((await watcher.next()).data!.presence).toMatchObject({ userId: bea.id, status: 'ONLINE' });
    expect((await presenceOf(bea, o.owner, b)).presence).toBe('ONLINE');
    // A second connection on B, then the one on A closes: still ONLINE everywhere.
    const other = b.ws({ token: bea.token });
    const conn2 = subscribe(other, Changes, { orgId: o.org.id });
    await sleep(200);
    conn.close();
    await client.dispose();
    await watcher.expectSilence(700);
    expect((await presenceOf(bea, o.owner, a)).presence).toBe('ONLINE');
    conn2.close();
    await other.dispose();
    expect((await watcher.next(3000)).data!.presence).toMatchObject({ status: 'OFFLINE' });
    expect((await presenceOf(bea, o.owner, a)).presence).toBe('OFFLINE');

    const { createRoom } = await a.ok(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'x', memberIds: [bea.id] } }, { token: o.owner.token });
    const events = subscribe(b.ws({ token: o.owner.token }), Events, { roomId: createRoom.id });
    await sleep(200);
    await a.ok(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: bea.token });
    expect((await events.next()).data!.roomEvents).toMatchObject({ typing: true });
    await b.ok(SetTyping, { input: { roomId: createRoom.id, typing: true } }, { token: bea.token });
    expect((await events.next()).data!.roomEvents).toMatchObject({ typing: false });
    await events.expectSilence(600);
  });
});
