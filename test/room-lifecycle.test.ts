import { decodeGlobalID } from '@pothos/plugin-relay';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { uploadFile } from './helpers/attachments.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const CreateRoom = graphql(`
  mutation LifeCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const OpenDm = graphql(`
  mutation LifeOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation LifeSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const Edit = graphql(`
  mutation LifeEdit($input: EditMessageInput!) { editMessage(input: $input) { id } }
`);
const Delete = graphql(`
  mutation LifeDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }
`);
const React = graphql(`
  mutation LifeReact($input: AddReactionInput!) { addReaction(input: $input) { id } }
`);
const AddMembers = graphql(`
  mutation LifeAddMembers($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }
`);
const Join = graphql(`
  mutation LifeJoin($input: JoinRoomInput!) { joinRoom(input: $input) { id } }
`);
const MarkRead = graphql(`
  mutation LifeMarkRead($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }
`);
const Typing = graphql(`
  mutation LifeTyping($input: SetTypingInput!) { setTyping(input: $input) { typing } }
`);
const UpdateRoom = graphql(`
  mutation LifeUpdateRoom($input: UpdateRoomInput!) { updateRoom(input: $input) { id name } }
`);
const Archive = graphql(`
  mutation LifeArchive($input: ArchiveRoomInput!) { archiveRoom(input: $input) { id archivedAt } }
`);
const Unarchive = graphql(`
  mutation LifeUnarchive($input: UnarchiveRoomInput!) { unarchiveRoom(input: $input) { id archivedAt } }
`);
const DeleteRoom = graphql(`
  mutation LifeDeleteRoom($input: DeleteRoomInput!) { deleteRoom(input: $input) { deletedId } }
`);
const Room = graphql(`
  query LifeRoom($id: ID!) { room(id: $id) { id archivedAt messages(first: 10) { edges { node { seq content } } } } }
`);
const MyRooms = graphql(`
  query LifeMyRooms($includeArchived: Boolean) { me { unreadCount rooms(first: 50, includeArchived: $includeArchived) { edges { node { id } } } } }
`);
const Cursor = graphql(`
  query LifeCursor { me { inboxCursor } }
`);
const Inbox = graphql(`
  subscription LifeInbox($after: String) {
    inbox(after: $after) { __typename ... on InboxRoomRemoved { roomId } ... on InboxRoomAdded { room { id } unreadCount } }
  }
`);
const Events = graphql(`
  subscription LifeEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq }
      ... on RoomUpdated { roomId room { id name archivedAt } }
      ... on RoomDeleted { roomId }
    }
  }
`);
const Audit = graphql(`
  query LifeAudit($id: ID!, $targetId: ID) { org(id: $id) { auditLog(first: 10, targetId: $targetId) { edges { node { action actor { id } targetType targetId data } } } } }
`);
const CreateWebhook = graphql(`
  mutation LifeCreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }
`);

let server: TestServer;
let receiver: WebhookReceiver;
let dir: string;
let owner: TestUser;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let orgAdmin: TestUser;
let orgId: string;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  dir = await mkdtemp(join(tmpdir(), 'confab-life-'));
  server = await startServer({ overrides: { storage: { dir }, webhooks: { allowPrivate: true, pollIntervalMs: 100 } } });
  const o = await orgWithMembers(server, 3);
  owner = o.owner;
  [alice, bob, carol] = o.members;
  orgId = o.org.id;
  orgAdmin = await registerUser(server, { name: 'Org admin' });
  await addMember(server, orgId, owner, orgAdmin, 'ADMIN');
});

const raw = (id: string) => String(decodeGlobalID(id).id);
const auth = (u: TestUser) => ({ token: u.token });
/** A group made by alice (its OWNER) with bob, which the org's owner and carol are not in. */
const newRoom = async (type: 'GROUP' | 'CHANNEL' = 'GROUP') =>
  (await server.ok(CreateRoom, { input: { orgId, type, name: `r-${type}`, memberIds: [bob.id] } }, auth(alice))).createRoom.id;
const send = async (u: TestUser, roomId: string, content = 'hi') => (await server.ok(Send, { input: { roomId, content } }, auth(u))).sendMessage;
const refusal = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.map((e) => [e.extensions?.code, e.extensions?.reason ?? null]);
const myRooms = async (u: TestUser, includeArchived?: boolean) => (await server.ok(MyRooms, { includeArchived }, auth(u))).me!.rooms.edges.map((e) => e.node.id);
const inbox = async (u: TestUser) => subscribe(server.ws(auth(u)), Inbox, { after: (await server.ok(Cursor, {}, auth(u))).me!.inboxCursor });
/** The inbox's next change of the room list (messages, including a resume's snapshot of active rooms, are skipped). */
async function roomChange(sub: Awaited<ReturnType<typeof inbox>>) {
  for (;;) {
    const e = (await sub.next()).data!.inbox;
    if (e.__typename !== 'InboxMessageAdded') return e;
  }
}
const storedFiles = async () => (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.endsWith('.part'));

describe('archiveRoom and unarchiveRoom', () => {
  it('makes a room read-only for everyone and hides it from lists and the inbox until unarchived; reads still work', async () => {
    const roomId = await newRoom();
    const m = await send(bob, roomId, 'before');
    const sub = subscribe(server.ws(auth(bob)), Events, { roomId, afterSeq: 0 });
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: 1 });
    const bobInbox = await inbox(bob);
    const unreadBefore = (await server.ok(MyRooms, {}, auth(bob))).me!.unreadCount;
    await send(alice, roomId, 'unread for bob');
    expect((await server.ok(MyRooms, {}, auth(bob))).me!.unreadCount).toBe(unreadBefore + 1);

    const archived = (await server.ok(Archive, { input: { roomId } }, auth(alice))).archiveRoom;
    expect(archived.archivedAt).toEqual(expect.any(String));
    // Twice: nothing changes.
    expect((await server.ok(Archive, { input: { roomId } }, auth(alice))).archiveRoom.archivedAt).toBe(archived.archivedAt);
    expect((await sub.next()).data!.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', seq: 2 });
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomUpdated', roomId, room: { id: roomId, name: 'r-GROUP', archivedAt: archived.archivedAt } });
    expect(await roomChange(bobInbox)).toEqual({ __typename: 'InboxRoomRemoved', roomId });

    // Every write is FORBIDDEN (ARCHIVED), for the room's OWNER as for its members.
    for (const [doc, input, who] of [
      [Send, { roomId, content: 'no' }, alice],
      [Send, { roomId, content: 'no' }, bob],
      [Edit, { messageId: m.id, content: 'no' }, bob],
      [Delete, { messageId: m.id }, bob],
      [Delete, { messageId: m.id }, alice],
      [React, { messageId: m.id, emoji: '👍' }, alice],
      [Typing, { roomId, typing: true }, bob],
      [AddMembers, { roomId, userIds: [carol.id] }, alice],
    ] as const) {
      expect(refusal(await server.gql(doc as any, { input }, auth(who))), JSON.stringify(input)).toEqual([['FORBIDDEN', 'ARCHIVED']]);
    }
    // Reads, and moving one's own read marker, still work.
    const read = (await server.ok(Room, { id: roomId }, auth(bob))).room!;
    expect(read.messages.edges.map((e) => [e.node.seq, e.node.content])).toEqual([[1, 'before'], [2, 'unread for bob']]);
    await server.ok(MarkRead, { input: { roomId, seq: 2 } }, auth(bob));
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'ReadReceiptUpdated' });
    // Out of the lists and the counts unless asked for.
    expect(await myRooms(bob)).not.toContain(roomId);
    expect(await myRooms(bob, true)).toContain(roomId);
    expect((await server.ok(MyRooms, {}, auth(bob))).me!.unreadCount).toBe(unreadBefore);

    const back = (await server.ok(Unarchive, { input: { roomId } }, auth(alice))).unarchiveRoom;
    expect(back.archivedAt).toBeNull();
    expect((await sub.next()).data!.roomEvents).toMatchObject({ __typename: 'RoomUpdated', room: { archivedAt: null } });
    expect(await roomChange(bobInbox)).toEqual({ __typename: 'InboxRoomAdded', room: { id: roomId }, unreadCount: 0 });
    expect(await myRooms(bob)).toContain(roomId);
    await send(bob, roomId, 'after');
    sub.close();
    bobInbox.close();

    const audit = await server.ok(Audit, { id: orgId, targetId: roomId }, auth(owner));
    expect(audit.org!.auditLog.edges.map((e) => [e.node.action, e.node.actor?.id, e.node.targetType, e.node.targetId])).toEqual([
      ['room.unarchive', alice.id, 'Room', roomId],
      ['room.archive', alice.id, 'Room', roomId],
    ]);
  });

  it('refuses members below ADMIN (FORBIDDEN), people outside the room (NOT_FOUND) and direct rooms (FORBIDDEN)', async () => {
    const roomId = await newRoom();
    expect(await server.errorCode(Archive, { input: { roomId } }, auth(bob))).toBe('FORBIDDEN');
    expect(await server.errorCode(Archive, { input: { roomId } }, auth(carol))).toBe('NOT_FOUND');
    expect(await server.errorCode(Archive, { input: { roomId } }, auth(owner))).toBe('NOT_FOUND');
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    expect(await server.errorCode(Archive, { input: { roomId } }, auth(stranger))).toBe('NOT_FOUND');
    expect(await server.errorCode(Archive, { input: { roomId } })).toBe('UNAUTHENTICATED');
    const dm = (await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, auth(alice))).openDirectRoom.id;
    expect(await server.errorCode(Archive, { input: { roomId: dm } }, auth(alice))).toBe('FORBIDDEN');
    expect((await server.ok(Room, { id: roomId }, auth(alice))).room!.archivedAt).toBeNull();

    await server.ok(Archive, { input: { roomId } }, auth(alice));
    expect(await server.errorCode(Unarchive, { input: { roomId } }, auth(bob))).toBe('FORBIDDEN');
    expect(await server.errorCode(Unarchive, { input: { roomId } }, auth(carol))).toBe('NOT_FOUND');
    expect((await server.ok(Room, { id: roomId }, auth(alice))).room!.archivedAt).not.toBeNull();
  });

  it('refuses joining an archived channel (FORBIDDEN, ARCHIVED)', async () => {
    const channel = await newRoom('CHANNEL');
    await server.ok(Archive, { input: { roomId: channel } }, auth(alice));
    expect(refusal(await server.gql(Join, { input: { roomId: channel } }, auth(carol)))).toEqual([['FORBIDDEN', 'ARCHIVED']]);
    await server.ok(Unarchive, { input: { roomId: channel } }, auth(alice));
    await server.ok(Join, { input: { roomId: channel } }, auth(carol));
  });

  it('updateRoom tells the room (RoomUpdated)', async () => {
    const roomId = await newRoom();
    const sub = subscribe(server.ws(auth(bob)), Events, { roomId, afterSeq: 0 });
    await send(alice, roomId);
    await sub.next();
    await server.ok(UpdateRoom, { input: { roomId, name: 'renamed' } }, auth(alice));
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomUpdated', roomId, room: { id: roomId, name: 'renamed', archivedAt: null } });
    sub.close();
  });
});

describe('deleteRoom', () => {
  it('deletes the room and everything in it, ends its subscriptions, tells inboxes and webhooks, and deletes attachment bytes', async () => {
    const path = '/room-deleted';
    await server.ok(CreateWebhook, { input: { orgId, url: `${receiver.url}${path}`, events: ['ROOM_DELETED'] } }, auth(owner));
    const roomId = await newRoom();
    const file = await uploadFile(server, bob.token, orgId, 'note.txt', 'text/plain', Buffer.from('the bytes of a note'));
    await server.ok(Send, { input: { roomId, content: 'with a file', attachmentIds: [file] } }, auth(bob));
    await send(alice, roomId, 'two');
    expect(await storedFiles()).toHaveLength(1);

    const subs = [alice, bob].map((u) => subscribe(server.ws(auth(u)), Events, { roomId, afterSeq: 1 }));
    for (const s of subs) expect((await s.next()).data!.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: 2 });
    const inboxes = await Promise.all([alice, bob].map(inbox));

    expect((await server.ok(DeleteRoom, { input: { roomId } }, auth(owner))).deleteRoom).toEqual({ deletedId: roomId });
    for (const s of subs) {
      expect((await s.next()).data!.roomEvents).toEqual({ __typename: 'RoomDeleted', roomId });
      expect(await s.ended).toBeUndefined();
    }
    for (const i of inboxes) expect(await roomChange(i)).toEqual({ __typename: 'InboxRoomRemoved', roomId });
    inboxes.forEach((i) => i.close());

    expect(await server.errorCode(Room, { id: roomId }, auth(alice))).toBe('NOT_FOUND');
    expect(await myRooms(bob, true)).not.toContain(roomId);
    expect(await db.roomMessage.count({ where: { roomId: raw(roomId) } })).toBe(0);
    expect(await db.roomMember.count({ where: { roomId: raw(roomId) } })).toBe(0);
    expect(await db.attachment.count({ where: { id: raw(file) } })).toBe(0);
    expect(await storedFiles()).toEqual([]);
    // A new subscription is refused: the room is gone.
    const late = subscribe(server.ws(auth(bob)), Events, { roomId });
    expect((await late.rejection())?.extensions?.code).toBe('NOT_FOUND');

    const [hook] = await receiver.waitFor(1, (h) => h.path === path);
    expect(hook.body).toMatchObject({ type: 'ROOM_DELETED', data: { roomId } });
    const audit = await server.ok(Audit, { id: orgId, targetId: roomId }, auth(owner));
    expect(audit.org!.auditLog.edges.map((e) => [e.node.action, e.node.actor?.id, e.node.data])).toEqual([
      ['room.delete', owner.id, { name: 'r-GROUP', type: 'GROUP', memberCount: 2, messageCount: 2 }],
    ]);
  });

  it('lets the room OWNER and org OWNERs and ADMINs (in the room or not) delete; refuses other members (FORBIDDEN) and everyone else (NOT_FOUND)', async () => {
    const roomId = await newRoom();
    // alice made it (its OWNER); as a room ADMIN (and a MEMBER of the org) she may not.
    await db.roomMember.update({ where: { roomId_userId: { roomId: raw(roomId), userId: raw(alice.id) } }, data: { role: 'ADMIN' } });
    expect(await server.errorCode(DeleteRoom, { input: { roomId } }, auth(alice))).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteRoom, { input: { roomId } }, auth(bob))).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteRoom, { input: { roomId } }, auth(carol))).toBe('NOT_FOUND');
    const stranger = await registerUser(server);
    await createOrg(server, stranger);
    expect(await server.errorCode(DeleteRoom, { input: { roomId } }, auth(stranger))).toBe('NOT_FOUND');
    expect(await server.errorCode(DeleteRoom, { input: { roomId } })).toBe('UNAUTHENTICATED');
    expect((await server.ok(Room, { id: roomId }, auth(bob))).room!.id).toBe(roomId);
    // Made its OWNER (setRoomMemberRole's effect), alice may.
    await db.roomMember.update({ where: { roomId_userId: { roomId: raw(roomId), userId: raw(alice.id) } }, data: { role: 'OWNER' } });
    await server.ok(DeleteRoom, { input: { roomId } }, auth(alice));

    // The org's ADMIN and OWNER, though not in the room.
    for (const who of [orgAdmin, owner]) {
      const id = await newRoom();
      expect((await server.ok(DeleteRoom, { input: { roomId: id } }, auth(who))).deleteRoom.deletedId).toBe(id);
      expect(await server.errorCode(Room, { id }, auth(alice))).toBe('NOT_FOUND');
    }
    // A direct room too, by the org's admin.
    const dm = (await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, auth(carol))).openDirectRoom.id;
    await server.ok(DeleteRoom, { input: { roomId: dm } }, auth(orgAdmin));
  });

  it('deletes once when two deletes race: the other is NOT_FOUND', async () => {
    const roomId = await newRoom();
    await send(bob, roomId);
    const results = await Promise.all([owner, orgAdmin].map((u) => server.gql(DeleteRoom, { input: { roomId } }, auth(u))));
    expect(results.map((r) => r.errors?.[0]?.extensions?.code ?? 'OK').sort()).toEqual(['NOT_FOUND', 'OK']);
    const entries = await server.ok(Audit, { id: orgId, targetId: roomId }, auth(owner));
    expect(entries.org!.auditLog.edges.map((e) => e.node.action)).toEqual(['room.delete']);
  });
});
