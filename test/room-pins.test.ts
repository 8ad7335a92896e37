import { decodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation PinsCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const OpenDm = graphql(`
  mutation PinsOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation PinsSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const AddMembers = graphql(`
  mutation PinsAddMembers($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }
`);
const Delete = graphql(`
  mutation PinsDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }
`);
const Pin = graphql(`
  mutation PinsPin($input: PinMessageInput!) { pinMessage(input: $input) { id pinnedAt pinnedBy { id name } } }
`);
const Unpin = graphql(`
  mutation PinsUnpin($input: UnpinMessageInput!) { unpinMessage(input: $input) { id pinnedAt pinnedBy { id } } }
`);
const Pinned = graphql(`
  query PinsPinned($id: ID!, $first: Int, $after: String) {
    room(id: $id) {
      pinnedMessages(first: $first, after: $after) { edges { node { id seq pinnedAt pinnedBy { id } } } pageInfo { hasNextPage endCursor } }
    }
  }
`);
const Archive = graphql(`
  mutation PinsArchive($input: ArchiveRoomInput!) { archiveRoom(input: $input) { id archivedAt } }
`);
const Audit = graphql(`
  query PinsAudit($id: ID!, $targetId: ID) {
    org(id: $id) { auditLog(first: 10, targetId: $targetId) { edges { node { action actor { id } targetType targetId data } } } }
  }
`);
const Events = graphql(`
  subscription PinsEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq }
      ... on RoomMessagePinChanged { pinned message { id pinnedAt pinnedBy { id } } }
    }
  }
`);

let server: TestServer;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
/** In the org, in none of the rooms below. */
let carol: TestUser;
let orgId: string;

beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 3);
  owner = o.owner;
  [alice, bob, carol] = o.members;
  orgId = o.org.id;
});

const raw = (id: string) => String(decodeGlobalID(id).id);
const newRoom = async () =>
  (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'pins', memberIds: [alice.id, bob.id] } }, { token: owner.token })).createRoom.id;
const send = async (user: TestUser, roomId: string, content = 'hello') => (await server.ok(Send, { input: { roomId, content } }, { token: user.token })).sendMessage;
const pin = (user: TestUser, messageId: string) => server.gql(Pin, { input: { messageId } }, { token: user.token });
const pinnedIds = async (user: TestUser, roomId: string) =>
  (await server.ok(Pinned, { id: roomId, first: 100 }, { token: user.token })).room!.pinnedMessages.edges.map((e) => e.node.id);
const setRole = (roomId: string, user: TestUser, role: 'MODERATOR' | 'MEMBER') =>
  db.roomMember.update({ where: { roomId_userId: { roomId: raw(roomId), userId: raw(user.id) } }, data: { role } });

describe('pinMessage and unpinMessage', () => {
  it('pins and unpins, newest pin first, idempotently, telling the room and the audit log', async () => {
    const roomId = await newRoom();
    const m1 = await send(alice, roomId, 'one');
    const m2 = await send(bob, roomId, 'two');
    // Live once the stored messages have been replayed.
    const sub = subscribe(server.ws({ token: alice.token }), Events, { roomId, afterSeq: 0 });
    expect([(await sub.next()).data!.roomEvents, (await sub.next()).data!.roomEvents]).toEqual([
      { __typename: 'RoomMessageAdded', seq: 1 },
      { __typename: 'RoomMessageAdded', seq: 2 },
    ]);
    const first = await server.ok(Pin, { input: { messageId: m1.id } }, { token: owner.token });
    expect(first.pinMessage).toMatchObject({ id: m1.id, pinnedBy: { id: owner.id, name: owner.name } });
    expect(first.pinMessage.pinnedAt).toEqual(expect.any(String));
    // Pinning again changes nothing: the same time, no second event, no second audit entry.
    const again = await server.ok(Pin, { input: { messageId: m1.id } }, { token: owner.token });
    expect(again.pinMessage.pinnedAt).toBe(first.pinMessage.pinnedAt);
    await server.ok(Pin, { input: { messageId: m2.id } }, { token: owner.token });
    expect(await pinnedIds(bob, roomId)).toEqual([m2.id, m1.id]);

    const un = await server.ok(Unpin, { input: { messageId: m1.id } }, { token: owner.token });
    expect(un.unpinMessage).toEqual({ id: m1.id, pinnedAt: null, pinnedBy: null });
    await server.ok(Unpin, { input: { messageId: m1.id } }, { token: owner.token });
    expect(await pinnedIds(alice, roomId)).toEqual([m2.id]);

    const events = [await sub.next(), await sub.next(), await sub.next()].map((e) => e.data!.roomEvents);
    expect(events.map((e) => e.__typename === 'RoomMessagePinChanged' && [e.pinned, e.message.id, e.message.pinnedBy?.id ?? null])).toEqual([
      [true, m1.id, owner.id],
      [true, m2.id, owner.id],
      [false, m1.id, null],
    ]);
    await sub.expectSilence(200);
    sub.close();

    const audit = await server.ok(Audit, { id: orgId, targetId: m1.id }, { token: owner.token });
    expect(audit.org!.auditLog.edges.map((e) => [e.node.action, e.node.actor?.id, e.node.targetType, e.node.targetId, e.node.data])).toEqual([
      ['room.message.unpin', owner.id, 'RoomMessage', m1.id, { roomId: raw(roomId) }],
      ['room.message.pin', owner.id, 'RoomMessage', m1.id, { roomId: raw(roomId) }],
    ]);
  });

  it('lets moderators and up pin in a group, not members; and either person in a direct room', async () => {
    const roomId = await newRoom();
    const m = await send(alice, roomId);
    expect(await server.errorCode(Pin, { input: { messageId: m.id } }, { token: alice.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(Unpin, { input: { messageId: m.id } }, { token: bob.token })).toBe('FORBIDDEN');
    await setRole(roomId, bob, 'MODERATOR');
    expect((await server.ok(Pin, { input: { messageId: m.id } }, { token: bob.token })).pinMessage.pinnedBy!.id).toBe(bob.id);
    expect(await pinnedIds(alice, roomId)).toEqual([m.id]);

    const dm = (await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, { token: alice.token })).openDirectRoom.id;
    const d1 = await send(alice, dm, 'dm one');
    const d2 = await send(bob, dm, 'dm two');
    await server.ok(Pin, { input: { messageId: d1.id } }, { token: bob.token });
    await server.ok(Pin, { input: { messageId: d2.id } }, { token: alice.token });
    expect(await pinnedIds(bob, dm)).toEqual([d2.id, d1.id]);
    await server.ok(Unpin, { input: { messageId: d2.id } }, { token: bob.token });
    expect(await pinnedIds(alice, dm)).toEqual([d1.id]);
  });

  it('answers pinnedBy null once the pinner\'s account is gone, and keeps the pin', async () => {
    const roomId = await newRoom();
    const m = await send(alice, roomId);
    const mod = await registerUser(server, { name: 'Short-lived moderator' });
    await addMember(server, orgId, owner, mod);
    await server.ok(AddMembers, { input: { roomId, userIds: [mod.id] } }, { token: owner.token });
    await setRole(roomId, mod, 'MODERATOR');
    await server.ok(Pin, { input: { messageId: m.id } }, { token: mod.token });
    await db.user.delete({ where: { id: raw(mod.id) } });
    const [pinned] = (await server.ok(Pinned, { id: roomId, first: 10 }, { token: alice.token })).room!.pinnedMessages.edges;
    expect(pinned.node).toMatchObject({ id: m.id, pinnedBy: null });
    expect(pinned.node.pinnedAt).toEqual(expect.any(String));
  });

  it('hides other rooms\' messages (NOT_FOUND), refuses deleted messages (GONE) and archived rooms (ARCHIVED), changing nothing', async () => {
    const roomId = await newRoom();
    const m = await send(alice, roomId);
    // In the org but not in the room; in another org; not signed in.
    expect(await server.errorCode(Pin, { input: { messageId: m.id } }, { token: carol.token })).toBe('NOT_FOUND');
    const stranger = await registerUser(server);
    const strangerOrg = await createOrg(server, stranger, 'Elsewhere');
    expect(await server.errorCode(Pin, { input: { messageId: m.id } }, { token: stranger.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Pin, { input: { messageId: m.id } })).toBe('UNAUTHENTICATED');
    // The stranger's own room is as invisible to the owner.
    const theirs = (await server.ok(CreateRoom, { input: { orgId: strangerOrg.id, type: 'GROUP', name: 'x' } }, { token: stranger.token })).createRoom.id;
    const theirMessage = await send(stranger, theirs);
    expect(await server.errorCode(Pin, { input: { messageId: theirMessage.id } }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await pinnedIds(owner, roomId)).toEqual([]);

    const doomed = await send(alice, roomId, 'to delete');
    await server.ok(Delete, { input: { messageId: doomed.id } }, { token: alice.token });
    expect(await server.errorCode(Pin, { input: { messageId: doomed.id } }, { token: owner.token })).toBe('GONE');

    // A pinned message that is deleted leaves the list.
    const pinned = await send(alice, roomId, 'pinned then deleted');
    await server.ok(Pin, { input: { messageId: pinned.id } }, { token: owner.token });
    await server.ok(Delete, { input: { messageId: pinned.id } }, { token: alice.token });
    expect(await pinnedIds(owner, roomId)).toEqual([]);

    await server.ok(Archive, { input: { roomId } }, { token: owner.token });
    const res = await pin(owner, m.id);
    expect(res.errors?.map((e) => [e.extensions?.code, e.extensions?.reason])).toEqual([['FORBIDDEN', 'ARCHIVED']]);
    expect(await pinnedIds(owner, roomId)).toEqual([]);
  });

  it('keeps at most 50 pinned when 55 pins race: exactly 50 succeed, the rest are BAD_USER_INPUT', async () => {
    const roomId = await newRoom();
    const sent: string[] = [];
    for (let i = 0; i < 55; i++) sent.push((await send(alice, roomId, `m${i}`)).id);
    const results = await Promise.all(sent.map((id) => pin(owner, id)));
    const ok = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(ok).toHaveLength(50);
    expect(refused.map((r) => r.errors!.map((e) => [e.extensions?.code, e.extensions?.field]))).toEqual(Array(5).fill([['BAD_USER_INPUT', 'messageId']]));
    const listed = await pinnedIds(owner, roomId);
    expect(listed).toHaveLength(50);
    expect(new Set(listed)).toEqual(new Set(ok.map((r) => r.data!.pinMessage.id)));
    // Pages of the list, newest pin first.
    const page = await server.ok(Pinned, { id: roomId, first: 20 }, { token: bob.token });
    expect(page.room!.pinnedMessages.pageInfo.hasNextPage).toBe(true);
    const next = await server.ok(Pinned, { id: roomId, first: 40, after: page.room!.pinnedMessages.pageInfo.endCursor }, { token: bob.token });
    expect([...page.room!.pinnedMessages.edges, ...next.room!.pinnedMessages.edges].map((e) => e.node.id)).toEqual(listed);
    const times = page.room!.pinnedMessages.edges.map((e) => Date.parse(e.node.pinnedAt!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // One freed place takes one more pin.
    const spare = sent.find((id) => !listed.includes(id))!;
    await server.ok(Unpin, { input: { messageId: listed[0] } }, { token: owner.token });
    expect((await pin(owner, spare)).errors).toBeUndefined();
    expect((await pin(owner, listed[0])).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
