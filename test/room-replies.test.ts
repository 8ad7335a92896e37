import { encodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation RepliesCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation RepliesSend($input: SendMessageInput!) {
    sendMessage(input: $input) { id seq createdAt replyCount parent { id replyCount lastReplyAt } mentions { id } mentionsViewer }
  }
`);
const Delete = graphql(`
  mutation RepliesDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }
`);
const MarkRead = graphql(`
  mutation RepliesMarkRead($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }
`);
const RoomQuery = graphql(`
  query RepliesRoom($id: ID!, $topLevelOnly: Boolean) {
    room(id: $id) {
      id lastSeq mentionCount
      messages(first: 100, topLevelOnly: $topLevelOnly) { edges { node { seq parent { id } replyCount } } }
    }
  }
`);
const Message = graphql(`
  query RepliesMessage($id: ID!, $first: Int, $after: String, $last: Int) {
    node(id: $id) {
      ... on RoomMessage {
        id seq deleted replyCount lastReplyAt mentionsViewer
        parent { id deleted }
        mentions { id name }
        replies(first: $first, after: $after, last: $last) {
          edges { cursor node { seq content deleted parent { id } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`);
const MyRooms = graphql(`
  query RepliesMyRooms { me { rooms(first: 50) { edges { node { id unreadCount mentionCount } } } } }
`);
const Events = graphql(`
  subscription RepliesEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq message { id content parent { id replyCount lastReplyAt } mentions { id } mentionsViewer } }
      ... on RoomMessageDeleted { seq message { id deleted } }
      ... on RoomMessageRepliesUpdated { seq message { id seq replyCount lastReplyAt } }
    }
  }
`);
const RemoveOrgMember = graphql(`
  mutation RepliesRemoveOrgMember($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }
`);
const Notifications = graphql(`
  subscription RepliesNotifications { notifications { id topic payload } }
`);

let server: TestServer;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
/** A member of the org who is in none of the rooms below. */
let carol: TestUser;
let orgId: string;

beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 3);
  owner = o.owner;
  [alice, bob, carol] = o.members;
  orgId = o.org.id;
});

const newRoom = async (creator = owner, members = [alice, bob]) =>
  (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'replies', memberIds: members.map((m) => m.id) } }, { token: creator.token })).createRoom.id;
const send = async (user: TestUser, roomId: string, content: string, extra: { parentId?: string; mentionIds?: string[] } = {}) =>
  (await server.ok(Send, { input: { roomId, content, ...extra } }, { token: user.token })).sendMessage;
const room = async (user: TestUser, id: string, topLevelOnly?: boolean) => (await server.ok(RoomQuery, { id, topLevelOnly }, { token: user.token })).room!;
const message = async (user: TestUser, id: string, page: { first?: number; after?: string; last?: number } = {}) => {
  const { node } = await server.ok(Message, { id, ...page }, { token: user.token });
  return node as Extract<typeof node, { replies: unknown }>;
};
/** Sends that must fail with BAD_USER_INPUT naming `field`, leaving the room as it was. */
async function refused(user: TestUser, roomId: string, input: { parentId?: string; mentionIds?: string[] }, field: string) {
  const before = await room(owner, roomId);
  const res = await server.gql(Send, { input: { roomId, content: 'nope', ...input } }, { token: user.token });
  expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.field])).toEqual([['BAD_USER_INPUT', field]]);
  const after = await room(owner, roomId);
  expect(after.lastSeq).toBe(before.lastSeq);
  expect(after.messages).toEqual(before.messages);
}

describe('replies', () => {
  it('stores a reply with its own seq, counts it on the parent, and lists it under the parent and in the room', async () => {
    const roomId = await newRoom();
    const parent = await send(owner, roomId, 'parent');
    const r1 = await send(alice, roomId, 'first reply', { parentId: parent.id });
    expect(r1).toMatchObject({ seq: 2, parent: { id: parent.id, replyCount: 1, lastReplyAt: r1.createdAt } });
    const top = await send(bob, roomId, 'top level');
    const r2 = await send(bob, roomId, 'second reply', { parentId: parent.id });
    expect(r2).toMatchObject({ seq: 4, parent: { id: parent.id, replyCount: 2, lastReplyAt: r2.createdAt } });

    const p = await message(alice, parent.id);
    expect(p).toMatchObject({ replyCount: 2, lastReplyAt: r2.createdAt, parent: null });
    expect(p.replies.edges.map((e) => [e.node.seq, e.node.content, e.node.parent?.id])).toEqual([
      [2, 'first reply', parent.id],
      [4, 'second reply', parent.id],
    ]);
    // A page at a time, oldest first.
    const page1 = await message(alice, parent.id, { first: 1 });
    expect(page1.replies.edges.map((e) => e.node.seq)).toEqual([2]);
    expect(page1.replies.pageInfo.hasNextPage).toBe(true);
    const page2 = await message(alice, parent.id, { first: 1, after: page1.replies.pageInfo.endCursor! });
    expect(page2.replies.edges.map((e) => e.node.seq)).toEqual([4]);
    expect((await message(alice, parent.id, { last: 1 })).replies.edges.map((e) => e.node.seq)).toEqual([4]);
    // The same page limit as Room.messages.
    expect(await server.errorCode(Message, { id: parent.id, first: -1 }, { token: alice.token })).toBe('BAD_USER_INPUT');

    const reply = await message(bob, r1.id);
    expect(reply).toMatchObject({ replyCount: 0, lastReplyAt: null, parent: { id: parent.id, deleted: false }, replies: { edges: [] } });

    const all = await room(bob, roomId);
    expect(all.lastSeq).toBe(4);
    expect(all.messages.edges.map((e) => [e.node.seq, e.node.parent?.id ?? null])).toEqual([
      [1, null],
      [2, parent.id],
      [3, null],
      [4, parent.id],
    ]);
    const topOnly = await room(bob, roomId, true);
    expect(topOnly.messages.edges.map((e) => [e.node.seq, e.node.replyCount])).toEqual([
      [1, 2],
      [3, 0],
    ]);
    expect(top.seq).toBe(3);
  });

  it('refuses a parent in another room, in another org, unknown, deleted or itself a reply, and stores nothing', async () => {
    const roomId = await newRoom();
    const otherRoom = await newRoom();
    const elsewhere = await send(owner, otherRoom, 'in another room');
    const parent = await send(owner, roomId, 'parent');
    const reply = await send(alice, roomId, 'reply', { parentId: parent.id });

    const stranger = await orgWithMembers(server, 0);
    const strangerRoom = (await server.ok(CreateRoom, { input: { orgId: stranger.org.id, type: 'GROUP', name: 'x' } }, { token: stranger.owner.token })).createRoom.id;
    const foreign = await send(stranger.owner, strangerRoom, 'other org');

    await refused(alice, roomId, { parentId: elsewhere.id }, 'parentId');
    await refused(alice, roomId, { parentId: foreign.id }, 'parentId');
    await refused(alice, roomId, { parentId: encodeGlobalID('RoomMessage', 'no-such-message') }, 'parentId');
    await refused(alice, roomId, { parentId: roomId }, 'parentId');
    await refused(alice, roomId, { parentId: reply.id }, 'parentId');
    expect((await message(owner, elsewhere.id)).replyCount).toBe(0);
    expect((await message(stranger.owner, foreign.id)).replyCount).toBe(0);

    const doomed = await send(owner, roomId, 'to be deleted');
    await server.ok(Delete, { input: { messageId: doomed.id } }, { token: owner.token });
    await refused(alice, roomId, { parentId: doomed.id }, 'parentId');
    expect((await message(owner, parent.id)).replyCount).toBe(1);
  });

  it('keeps a deleted parent as a tombstone with its replies, and counts only live replies', async () => {
    const roomId = await newRoom();
    const parent = await send(owner, roomId, 'parent');
    const r1 = await send(alice, roomId, 'one', { parentId: parent.id });
    const r2 = await send(bob, roomId, 'two', { parentId: parent.id });
    const r3 = await send(alice, roomId, 'three', { parentId: parent.id });

    // Deleting the newest reply: one fewer, lastReplyAt goes back to the newest live one. Twice at once counts once.
    await Promise.all([server.ok(Delete, { input: { messageId: r3.id } }, { token: alice.token }), server.ok(Delete, { input: { messageId: r3.id } }, { token: owner.token })]);
    expect(await message(owner, parent.id)).toMatchObject({ replyCount: 2, lastReplyAt: r2.createdAt });
    // An older one: lastReplyAt stays.
    await server.ok(Delete, { input: { messageId: r1.id } }, { token: alice.token });
    expect(await message(owner, parent.id)).toMatchObject({ replyCount: 1, lastReplyAt: r2.createdAt });
    // The replies list keeps the tombstones, in order.
    expect((await message(owner, parent.id)).replies.edges.map((e) => [e.node.seq, e.node.deleted])).toEqual([
      [2, true],
      [3, false],
      [4, true],
    ]);

    await server.ok(Delete, { input: { messageId: parent.id } }, { token: owner.token });
    const tomb = await message(bob, parent.id);
    expect(tomb).toMatchObject({ deleted: true, replyCount: 1 });
    expect(tomb.replies.edges.map((e) => e.node.seq)).toEqual([2, 3, 4]);
    expect((await message(bob, r2.id)).parent).toEqual({ id: parent.id, deleted: true });

    await server.ok(Delete, { input: { messageId: r2.id } }, { token: bob.token });
    expect(await message(owner, parent.id)).toMatchObject({ replyCount: 0, lastReplyAt: null });
  });

  it('counts 20 concurrent replies to one parent exactly, and concurrent replies to several parents in one commit', async () => {
    const roomId = await newRoom();
    const parent = await send(owner, roomId, 'parent');
    const senders = [owner, alice, bob];
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => send(senders[i % 3], roomId, `r${i}`, { parentId: parent.id })));
    expect(sent.map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const newest = sent.reduce((a, b) => (a.seq > b.seq ? a : b));
    expect(await message(bob, parent.id, { first: 100 })).toMatchObject({ replyCount: 20, lastReplyAt: newest.createdAt });

    // Replies to three parents and plain messages at once (group commits with several parents), and one bad
    // reply among them: it alone fails, the others are stored with gap-free seqs.
    const [a, b] = [await send(owner, roomId, 'a'), await send(owner, roomId, 'b')];
    const targets = [parent.id, a.id, b.id, null];
    const results = await Promise.allSettled([
      ...Array.from({ length: 40 }, (_, i) => send(senders[i % 3], roomId, `m${i}`, targets[i % 4] ? { parentId: targets[i % 4]! } : {})),
      send(alice, roomId, 'bad', { parentId: sent[0].id }),
    ]);
    expect(results.slice(0, 40).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(results[40].status).toBe('rejected');
    const counts = await Promise.all([parent.id, a.id, b.id].map(async (id) => (await message(owner, id)).replyCount));
    expect(counts).toEqual([30, 10, 10]);
    const r = await room(owner, roomId);
    expect(r.lastSeq).toBe(63);
    expect(r.messages.edges.length).toBe(63);
  });

  it('updates the parent live: the reply carries the new counts and RoomMessageRepliesUpdated follows it', async () => {
    const roomId = await newRoom();
    const parent = await send(owner, roomId, 'parent');
    // Live once the parent is replayed (the feed listens before it replays): RepliesUpdated is live-only.
    const sub = subscribe(server.ws({ token: alice.token }), Events, { roomId, afterSeq: 0 });
    expect((await sub.next()).data!.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', seq: 1 });
    const reply = await send(bob, roomId, 'reply', { parentId: parent.id });
    expect((await sub.next()).data!.roomEvents).toEqual({
      __typename: 'RoomMessageAdded',
      seq: 2,
      message: { id: reply.id, content: 'reply', parent: { id: parent.id, replyCount: 1, lastReplyAt: reply.createdAt }, mentions: [], mentionsViewer: false },
    });
    expect((await sub.next()).data!.roomEvents).toEqual({
      __typename: 'RoomMessageRepliesUpdated',
      seq: 1,
      message: { id: parent.id, seq: 1, replyCount: 1, lastReplyAt: reply.createdAt },
    });
    await server.ok(Delete, { input: { messageId: reply.id } }, { token: bob.token });
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomMessageDeleted', seq: 2, message: { id: reply.id, deleted: true } });
    expect((await sub.next()).data!.roomEvents).toEqual({
      __typename: 'RoomMessageRepliesUpdated',
      seq: 1,
      message: { id: parent.id, seq: 1, replyCount: 0, lastReplyAt: null },
    });

    // Many at once: the counts only grow, and the last update says 10.
    await Promise.all(Array.from({ length: 10 }, (_, i) => send([owner, alice, bob][i % 3], roomId, `r${i}`, { parentId: parent.id })));
    let added = 0;
    let last = 0;
    while (added < 10 || last < 10) {
      const e = (await sub.next()).data!.roomEvents;
      if (e.__typename === 'RoomMessageAdded') added++;
      if (e.__typename === 'RoomMessageRepliesUpdated') {
        expect(e.message.replyCount).toBeGreaterThan(last);
        last = e.message.replyCount;
      }
    }
    expect(last).toBe(10);
    sub.close();
  });
});

describe('mentions', () => {
  it('stores mentions, collapses duplicates, and answers mentionsViewer per viewer', async () => {
    const roomId = await newRoom();
    const m = await send(owner, roomId, 'hi @alice', { mentionIds: [alice.id, alice.id, owner.id] });
    expect(m.mentions.map((u) => u.id).sort()).toEqual([alice.id, owner.id].sort());
    expect(m.mentionsViewer).toBe(true);
    expect(await message(alice, m.id)).toMatchObject({ mentionsViewer: true });
    expect(await message(bob, m.id)).toMatchObject({ mentionsViewer: false });
    const plain = await send(owner, roomId, 'nobody');
    expect(plain).toMatchObject({ mentions: [], mentionsViewer: false });

    // Deleting the message takes its mentions with it.
    await server.ok(Delete, { input: { messageId: m.id } }, { token: owner.token });
    expect(await message(alice, m.id)).toMatchObject({ mentions: [], mentionsViewer: false });
  });

  it('refuses a mention of a non-member of the org, of an org member outside the room, and too many, storing nothing', async () => {
    const roomId = await newRoom();
    await send(owner, roomId, 'first');
    const outsider = await registerUser(server);
    await refused(owner, roomId, { mentionIds: [alice.id, outsider.id] }, 'mentionIds');
    await refused(owner, roomId, { mentionIds: [carol.id] }, 'mentionIds');
    await refused(owner, roomId, { mentionIds: [encodeGlobalID('Room', 'x')] }, 'mentionIds');
    await refused(owner, roomId, { mentionIds: Array.from({ length: 51 }, (_, i) => encodeGlobalID('User', `u${i}`)) }, 'mentionIds');
    // A member removed from the org is no longer mentionable, though still listed in the room.
    const dave = await registerUser(server);
    await addMember(server, orgId, owner, dave);
    const room2 = await newRoom(owner, [alice, dave]);
    await send(owner, room2, 'ok', { mentionIds: [dave.id] });
    await server.ok(RemoveOrgMember, { input: { orgId, userId: dave.id } }, { token: owner.token });
    await refused(owner, room2, { mentionIds: [dave.id] }, 'mentionIds');
    // Refused with a reply too: nothing of either is stored.
    const parent = await send(owner, roomId, 'parent');
    await refused(owner, roomId, { parentId: parent.id, mentionIds: [carol.id] }, 'mentionIds');
    expect((await message(owner, parent.id)).replyCount).toBe(0);
  });

  it('counts unread mentions per room until marked read, in one room and in a list of rooms', async () => {
    const [r1, r2] = [await newRoom(), await newRoom()];
    await send(owner, r1, 'hey', { mentionIds: [bob.id] });
    await send(alice, r1, 'not you');
    const last = await send(alice, r1, 'you again', { mentionIds: [bob.id, alice.id] });
    await send(owner, r2, 'there', { mentionIds: [bob.id] });
    expect((await room(bob, r1)).mentionCount).toBe(2);
    // The sender's own mention is read by sending it.
    expect((await room(alice, r1)).mentionCount).toBe(0);
    const counts = async (u: TestUser) =>
      Object.fromEntries((await server.ok(MyRooms, {}, { token: u.token })).me!.rooms.edges.filter((e) => [r1, r2].includes(e.node.id)).map((e) => [e.node.id, e.node.mentionCount]));
    expect(await counts(bob)).toEqual({ [r1]: 2, [r2]: 1 });

    await server.ok(MarkRead, { input: { roomId: r1, seq: last.seq - 1 } }, { token: bob.token });
    expect((await room(bob, r1)).mentionCount).toBe(1);
    await server.ok(MarkRead, { input: { roomId: r1, seq: last.seq } }, { token: bob.token });
    expect(await counts(bob)).toEqual({ [r1]: 0, [r2]: 1 });
    // Sending marks the room read too.
    await send(bob, r2, 'read it');
    expect((await room(bob, r2)).mentionCount).toBe(0);
  });

  it('notifies each mentioned member but the author, on their notifications stream', async () => {
    // People of their own, so that no earlier test's notifications are waiting for them.
    const o = await orgWithMembers(server, 3);
    const [owner, alice, bob, carol] = [o.owner, ...o.members];
    const roomId = (await server.ok(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'n', memberIds: [alice.id, bob.id, carol.id] } }, { token: owner.token })).createRoom.id;
    const subs = Object.fromEntries([owner, alice, bob, carol].map((u) => [u.id, subscribe(server.ws({ token: u.token }), Notifications, {})]));
    const long = `hello ${'x'.repeat(300)}`;
    const first = await send(owner, roomId, long, { mentionIds: [alice.id, owner.id] });
    const got = (await subs[alice.id].next()).data!.notifications;
    expect(got.topic).toBe('mention');
    expect(got.payload).toEqual({ roomId, messageId: first.id, seq: first.seq, authorId: owner.id, snippet: expect.stringMatching(/^hello x+…$/) });
    expect([...(got.payload as { snippet: string }).snippet].length).toBe(140);

    // The next mention is the first thing bob, carol and the owner hear: the first one reached alice only.
    const second = await send(alice, roomId, 'you three', { mentionIds: [bob.id, owner.id, carol.id] });
    for (const u of [bob, owner, carol]) {
      expect((await subs[u.id].next()).data!.notifications.payload).toMatchObject({ messageId: second.id, authorId: alice.id, snippet: 'you three' });
    }
    const third = await send(bob, roomId, 'and alice', { mentionIds: [alice.id] });
    expect((await subs[alice.id].next()).data!.notifications.payload).toMatchObject({ messageId: third.id });
    for (const s of Object.values(subs)) s.close();
  });

  it('delivers mentions on roomEvents, with mentionsViewer per subscriber', async () => {
    const roomId = await newRoom();
    const subs = [owner, alice, bob].map((u) => subscribe(server.ws({ token: u.token }), Events, { roomId, afterSeq: 0 }));
    // Every subscriber is live once it has heard a first message.
    await send(owner, roomId, 'warm-up');
    for (const s of subs) await s.next();
    const m = await send(owner, roomId, 'for alice', { mentionIds: [alice.id] });
    const [o, a, b] = await Promise.all(subs.map(async (s) => (await s.next()).data!.roomEvents));
    for (const e of [o, a, b]) expect(e).toMatchObject({ __typename: 'RoomMessageAdded', seq: m.seq, message: { mentions: [{ id: alice.id }] } });
    expect([o, a, b].map((e) => (e as { message: { mentionsViewer: boolean } }).message.mentionsViewer)).toEqual([false, true, false]);
    // Replayed from the database, the same.
    const replay = subscribe(server.ws({ token: alice.token }), Events, { roomId, afterSeq: m.seq - 1 });
    expect((await replay.next()).data!.roomEvents).toMatchObject({ seq: m.seq, message: { mentions: [{ id: alice.id }], mentionsViewer: true } });
    for (const s of [...subs, replay]) s.close();
  });
});
