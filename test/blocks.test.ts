import { encodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation BlocksCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const OpenDm = graphql(`
  mutation BlocksOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation BlocksSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq hiddenForViewer } }
`);
const Block = graphql(`
  mutation BlocksBlock($input: BlockUserInput!) { blockUser(input: $input) { id name viewerBlocked } }
`);
const Unblock = graphql(`
  mutation BlocksUnblock($input: UnblockUserInput!) { unblockUser(input: $input) { id viewerBlocked } }
`);
const Blocked = graphql(`
  query BlocksBlocked { me { blockedUsers(first: 10) { edges { node { id name viewerBlocked } } } } }
`);
const UserNode = graphql(`
  query BlocksUser($id: ID!) { node(id: $id) { ... on User { id viewerBlocked } } }
`);
const Messages = graphql(`
  query BlocksMessages($id: ID!) { room(id: $id) { messages(first: 20) { edges { node { seq author { id } hiddenForViewer } } } } }
`);
const Events = graphql(`
  subscription BlocksEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename ... on RoomMessageAdded { seq message { author { id } content hiddenForViewer } } }
  }
`);

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let orgId: string;

beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 3);
  [alice, bob, carol] = o.members;
  orgId = o.org.id;
});

const block = (who: TestUser, whom: TestUser) => server.ok(Block, { input: { userId: whom.id } }, { token: who.token });
const unblock = (who: TestUser, whom: TestUser) => server.ok(Unblock, { input: { userId: whom.id } }, { token: who.token });
const refusal = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.map((e) => [e.extensions?.code, e.extensions?.reason ?? e.extensions?.field ?? null]);

describe('blockUser and unblockUser', () => {
  it('blocks idempotently, lists the blocked, and says so on the user for the blocker only', async () => {
    expect((await block(alice, bob)).blockUser).toEqual({ id: bob.id, name: bob.name, viewerBlocked: true });
    expect((await block(alice, bob)).blockUser.viewerBlocked).toBe(true);
    expect((await server.ok(Blocked, {}, { token: alice.token })).me!.blockedUsers.edges.map((e) => e.node)).toEqual([{ id: bob.id, name: bob.name, viewerBlocked: true }]);
    expect((await server.ok(Blocked, {}, { token: bob.token })).me!.blockedUsers.edges).toEqual([]);
    expect((await server.ok(UserNode, { id: alice.id }, { token: bob.token })).node).toEqual({ id: alice.id, viewerBlocked: false });
    expect((await server.ok(UserNode, { id: bob.id }, { token: carol.token })).node).toEqual({ id: bob.id, viewerBlocked: false });

    expect((await unblock(alice, bob)).unblockUser).toEqual({ id: bob.id, viewerBlocked: false });
    expect((await unblock(alice, bob)).unblockUser.viewerBlocked).toBe(false);
    expect((await server.ok(Blocked, {}, { token: alice.token })).me!.blockedUsers.edges).toEqual([]);
  });

  it('refuses yourself (BAD_USER_INPUT), people you share no org with and unknown ids (NOT_FOUND), and anonymous callers', async () => {
    expect(refusal(await server.gql(Block, { input: { userId: alice.id } }, { token: alice.token }))).toEqual([['BAD_USER_INPUT', 'userId']]);
    const stranger = await registerUser(server);
    await createOrg(server, stranger, 'Elsewhere');
    expect(await server.errorCode(Block, { input: { userId: stranger.id } }, { token: alice.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Block, { input: { userId: alice.id } }, { token: stranger.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Unblock, { input: { userId: alice.id } }, { token: stranger.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Block, { input: { userId: encodeGlobalID('User', 'nobody') } }, { token: alice.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Block, { input: { userId: bob.id } })).toBe('UNAUTHENTICATED');
    expect((await server.ok(Blocked, {}, { token: alice.token })).me!.blockedUsers.edges).toEqual([]);
  });

  it('keeps the blocked user from opening a direct room with the blocker, or writing in one, in every org they share', async () => {
    // A second org both belong to: the block holds there too.
    const other = await orgWithMembers(server, 0);
    await addMember(server, other.org.id, other.owner, alice);
    await addMember(server, other.org.id, other.owner, bob);
    const dm = (await server.ok(OpenDm, { input: { orgId, userId: alice.id } }, { token: bob.token })).openDirectRoom.id;
    await server.ok(Send, { input: { roomId: dm, content: 'before' } }, { token: bob.token });

    await block(alice, bob);
    for (const org of [orgId, other.org.id]) {
      expect(refusal(await server.gql(OpenDm, { input: { orgId: org, userId: alice.id } }, { token: bob.token }))).toEqual([['FORBIDDEN', 'BLOCKED']]);
    }
    expect(refusal(await server.gql(Send, { input: { roomId: dm, content: 'after' } }, { token: bob.token }))).toEqual([['FORBIDDEN', 'BLOCKED']]);
    // The blocker still opens and writes; the blocked still reads.
    expect((await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, { token: alice.token })).openDirectRoom.id).toBe(dm);
    await server.ok(Send, { input: { roomId: dm, content: 'from alice' } }, { token: alice.token });
    expect((await server.ok(Messages, { id: dm }, { token: bob.token })).room!.messages.edges.map((e) => e.node.seq)).toEqual([1, 2]);
    // A group is not a direct room: the blocked user still talks there.
    const group = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'g', memberIds: [alice.id, bob.id] } }, { token: carol.token })).createRoom.id;
    await server.ok(Send, { input: { roomId: group, content: 'group' } }, { token: bob.token });

    await unblock(alice, bob);
    await server.ok(Send, { input: { roomId: dm, content: 'again' } }, { token: bob.token });
    expect((await server.ok(OpenDm, { input: { orgId: other.org.id, userId: alice.id } }, { token: bob.token })).openDirectRoom.id).toEqual(expect.any(String));
  });

  it('marks the blocked user\'s messages hiddenForViewer for the blocker only, in queries and in live events', async () => {
    const roomId = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'hidden', memberIds: [alice.id, bob.id, carol.id] } }, { token: alice.token })).createRoom.id;
    await block(alice, bob);
    await server.ok(Send, { input: { roomId, content: 'stored from bob' } }, { token: bob.token });
    // Replayed (seq 1), then live (seq 2, 3): the live ones are executed once for both subscribers where shared.
    const subs = [alice, carol].map((u) => subscribe(server.ws({ token: u.token }), Events, { roomId, afterSeq: 0 }));
    const replayed = await Promise.all(subs.map(async (s) => (await s.next()).data!.roomEvents));
    await server.ok(Send, { input: { roomId, content: 'live from bob' } }, { token: bob.token });
    await server.ok(Send, { input: { roomId, content: 'from carol' } }, { token: carol.token });
    const live = await Promise.all(subs.map(async (s) => [await s.next(), await s.next()].map((e) => e.data!.roomEvents)));
    const shape = (events: typeof replayed) => events.map((e) => e.__typename === 'RoomMessageAdded' && [e.seq, e.message.content, e.message.hiddenForViewer]);
    expect(shape([replayed[0], ...live[0]])).toEqual([[1, 'stored from bob', true], [2, 'live from bob', true], [3, 'from carol', false]]);
    expect(shape([replayed[1], ...live[1]])).toEqual([[1, 'stored from bob', false], [2, 'live from bob', false], [3, 'from carol', false]]);
    subs.forEach((s) => s.close());

    const read = async (u: TestUser) => (await server.ok(Messages, { id: roomId }, { token: u.token })).room!.messages.edges.map((e) => [e.node.author.id, e.node.hiddenForViewer]);
    expect(await read(alice)).toEqual([[bob.id, true], [bob.id, true], [carol.id, false]]);
    expect(await read(carol)).toEqual([[bob.id, false], [bob.id, false], [carol.id, false]]);
    expect(await read(bob)).toEqual([[bob.id, false], [bob.id, false], [carol.id, false]]);

    await unblock(alice, bob);
    expect(await read(alice)).toEqual([[bob.id, false], [bob.id, false], [carol.id, false]]);
  });
});
