import { decodeGlobalID } from '@pothos/plugin-relay';
import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { eventually, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const CreateRoom = graphql(`mutation ModCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id viewerRole } }`);
const OpenDm = graphql(`mutation ModOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }`);
const SetRole = graphql(`mutation ModSetRole($input: SetRoomMemberRoleInput!) { setRoomMemberRole(input: $input) { id role user { id } } }`);
const Ban = graphql(`
  mutation ModBan($input: BanRoomMemberInput!) {
    banRoomMember(input: $input) { id reason expiresAt createdAt room { id } user { id } bannedBy { id } }
  }
`);
const Unban = graphql(`mutation ModUnban($input: UnbanRoomMemberInput!) { unbanRoomMember(input: $input) { deletedId } }`);
const Mute = graphql(`mutation ModMute($input: MuteRoomMemberInput!) { muteRoomMember(input: $input) { id reason expiresAt user { id } mutedBy { id } } }`);
const Unmute = graphql(`mutation ModUnmute($input: UnmuteRoomMemberInput!) { unmuteRoomMember(input: $input) { deletedId member { muted muteExpiresAt } } }`);
const Freeze = graphql(`mutation ModFreeze($input: SetRoomFrozenInput!) { setRoomFrozen(input: $input) { id frozen viewerCanSend } }`);
const Send = graphql(`mutation ModSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }`);
const Edit = graphql(`mutation ModEdit($input: EditMessageInput!) { editMessage(input: $input) { id content } }`);
const Delete = graphql(`mutation ModDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }`);
const React = graphql(`mutation ModReact($input: AddReactionInput!) { addReaction(input: $input) { id } }`);
const Unreact = graphql(`mutation ModUnreact($input: RemoveReactionInput!) { removeReaction(input: $input) { id } }`);
const Add = graphql(`mutation ModAdd($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }`);
const Join = graphql(`mutation ModJoin($input: JoinRoomInput!) { joinRoom(input: $input) { id } }`);
const Remove = graphql(`mutation ModRemove($input: RemoveRoomMemberInput!) { removeRoomMember(input: $input) { deletedId } }`);
const Room = graphql(`
  query ModRoom($id: ID!) {
    room(id: $id) {
      id frozen viewerRole viewerCanSend lastSeq
      members(first: 50) { edges { node { role muted muteExpiresAt user { id } } } }
      messages(first: 50) { edges { node { id content } } }
    }
  }
`);
const Bans = graphql(`query ModBans($id: ID!) { room(id: $id) { bans(first: 20) { edges { node { id reason user { id } bannedBy { id } } } } } }`);
const Mutes = graphql(`query ModMutes($id: ID!) { room(id: $id) { mutes(first: 20) { edges { node { id expiresAt user { id } } } } } }`);
const CanSend = graphql(`query ModCanSend($id: ID!) { room(id: $id) { viewerCanSend } }`);
const Events = graphql(`
  subscription ModEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) {
      __typename
      ... on RoomMessageAdded { seq }
      ... on RoomMemberLeft { userId reason }
      ... on RoomMemberUpdated { userId role muted muteExpiresAt }
      ... on RoomUpdated { roomId room { frozen } }
    }
  }
`);
const CreateWebhook = graphql(`mutation ModWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }`);

let server: TestServer;
let receiver: WebhookReceiver;
let orgId: string;
let owner: TestUser, alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
/** In another org only. */
let stranger: TestUser;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  server = await startServer({ overrides: { webhooks: { allowPrivate: true, pollIntervalMs: 100, backoffBaseMs: 100 } } });
  const o = await orgWithMembers(server, 4);
  [owner, orgId] = [o.owner, o.org.id];
  [alice, bob, carol, dave] = o.members;
  stranger = await registerUser(server, { name: 'Stranger' });
  await createOrg(server, stranger, 'Elsewhere');
});

const as = (u: TestUser) => ({ token: u.token });
const raw = (gid: string) => decodeGlobalID(gid).id;
/** A GROUP made by the owner with these members and roles. */
async function room(members: [TestUser, 'MEMBER' | 'MODERATOR' | 'ADMIN'][], type: 'GROUP' | 'CHANNEL' = 'GROUP') {
  const { createRoom } = await server.ok(CreateRoom, { input: { orgId, type, name: 'moderated', memberIds: members.map(([u]) => u.id) } }, as(owner));
  for (const [u, role] of members) if (role !== 'MEMBER') await server.ok(SetRole, { input: { roomId: createRoom.id, userId: u.id, role } }, as(owner));
  return createRoom.id;
}
/** The one error of a refused operation: its code and reason. */
async function refusal(res: Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>) {
  const { errors } = await res;
  expect(errors?.length, JSON.stringify(errors)).toBe(1);
  return [errors![0].extensions?.code, errors![0].extensions?.reason];
}
const send = (u: TestUser, roomId: string, content = 'hi') => server.gql(Send, { input: { roomId, content } }, as(u));
const readRoom = async (u: TestUser, id: string) => (await server.ok(Room, { id }, as(u))).room!;
/** A live roomEvents feed of `u`, known to be listening: it has heard the message sent to open it. */
const listen = async (u: TestUser, roomId: string) => (await listenAll(roomId, u))[0];
/** Live feeds of several people, opened by one message (each hears it, and then only what follows). */
async function listenAll(roomId: string, ...users: TestUser[]) {
  const { sendMessage } = await server.ok(Send, { input: { roomId, content: 'opening' } }, as(owner));
  const subs = users.map((who) => subscribe(server.ws(as(who)), Events, { roomId, afterSeq: sendMessage.seq - 1 }));
  for (const sub of subs) expect((await sub.next()).data?.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded', seq: sendMessage.seq });
  return subs;
}
const auditRows = (action: string, targetId: string) => db.auditEntry.findMany({ where: { orgId: raw(orgId), action, targetId }, orderBy: { createdAt: 'asc' } });

describe('roles', () => {
  it('makes the creator OWNER; roles are set by rank; OWNER to someone else hands the room over', async () => {
    const roomId = await room([[alice, 'MEMBER'], [bob, 'MEMBER'], [carol, 'MEMBER']]);
    expect((await readRoom(owner, roomId)).viewerRole).toBe('OWNER');
    const setRole = (by: TestUser, who: TestUser, role: 'OWNER' | 'ADMIN' | 'MODERATOR' | 'MEMBER') => server.gql(SetRole, { input: { roomId, userId: who.id, role } }, as(by));
    // A MEMBER sets nothing; strangers see no room.
    expect(await refusal(setRole(alice, bob, 'MODERATOR'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(setRole(stranger, bob, 'MODERATOR'))).toEqual(['NOT_FOUND', undefined]);
    const bobFeed = await listen(bob, roomId);
    expect((await server.ok(SetRole, { input: { roomId, userId: alice.id, role: 'ADMIN' } }, as(owner))).setRoomMemberRole.role).toBe('ADMIN');
    expect((await bobFeed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberUpdated', userId: alice.id, role: 'ADMIN', muted: false, muteExpiresAt: null });
    // An ADMIN sets roles below ADMIN on members below them, never their own, never an equal's or the OWNER's.
    await server.ok(SetRole, { input: { roomId, userId: bob.id, role: 'MODERATOR' } }, as(alice));
    expect(await refusal(setRole(alice, carol, 'ADMIN'))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(setRole(alice, owner, 'MEMBER'))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(setRole(alice, alice, 'MEMBER'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(setRole(bob, carol, 'MEMBER'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(setRole(owner, owner, 'ADMIN'))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(setRole(owner, dave, 'ADMIN'))).toEqual(['NOT_FOUND', undefined]);

    // Handing over: one transaction, both changes told.
    await server.ok(SetRole, { input: { roomId, userId: alice.id, role: 'OWNER' } }, as(owner));
    const roles = Object.fromEntries((await readRoom(owner, roomId)).members.edges.map((e) => [e.node.user.id, e.node.role]));
    expect(roles).toEqual({ [owner.id]: 'ADMIN', [alice.id]: 'OWNER', [bob.id]: 'MODERATOR', [carol.id]: 'MEMBER' });
    const told = [(await bobFeed.next()).data?.roomEvents, (await bobFeed.next()).data?.roomEvents, (await bobFeed.next()).data?.roomEvents];
    expect(told.slice(1)).toEqual([
      { __typename: 'RoomMemberUpdated', userId: alice.id, role: 'OWNER', muted: false, muteExpiresAt: null },
      { __typename: 'RoomMemberUpdated', userId: owner.id, role: 'ADMIN', muted: false, muteExpiresAt: null },
    ]);
    // The former OWNER is now an ADMIN like any other.
    expect(await refusal(setRole(owner, alice, 'MEMBER'))).toEqual(['FORBIDDEN', 'RANK']);
    bobFeed.close();

    const audit = await auditRows('room.member.role', raw(alice.id));
    expect(audit.map((a) => a.data)).toEqual([
      { roomId: raw(roomId), from: 'MEMBER', to: 'ADMIN', transfer: false },
      { roomId: raw(roomId), from: 'ADMIN', to: 'OWNER', transfer: true },
    ]);
    expect((await auditRows('room.member.role', raw(owner.id))).map((a) => [a.actorId, a.data])).toEqual([[raw(owner.id), { roomId: raw(roomId), from: 'OWNER', to: 'ADMIN', transfer: true }]]);
  });

  it('two hand-overs at once: one OWNER at the end', async () => {
    const roomId = await room([[alice, 'MEMBER'], [bob, 'MEMBER']]);
    const results = await Promise.all([alice, bob].map((u) => server.gql(SetRole, { input: { roomId, userId: u.id, role: 'OWNER' } }, as(owner))));
    expect(results.filter((r) => !r.errors).length).toBe(1);
    const members = (await readRoom(owner, roomId)).members.edges.map((e) => e.node.role).sort();
    expect(members.filter((r) => r === 'OWNER')).toHaveLength(1);
  });

  it('has no roles, bans, mutes or freezing in direct rooms', async () => {
    const { openDirectRoom } = await server.ok(OpenDm, { input: { orgId, userId: alice.id } }, as(owner));
    const roomId = openDirectRoom.id;
    expect(await refusal(server.gql(SetRole, { input: { roomId, userId: alice.id, role: 'MEMBER' } }, as(owner)))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(server.gql(Ban, { input: { roomId, userId: alice.id } }, as(owner)))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(server.gql(Mute, { input: { roomId, userId: alice.id } }, as(owner)))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(server.gql(Freeze, { input: { roomId, frozen: true } }, as(owner)))).toEqual(['FORBIDDEN', undefined]);
  });

  it('removing others and deleting their messages go by rank', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MODERATOR'], [carol, 'MEMBER'], [dave, 'MEMBER']]);
    const { sendMessage: own } = await server.ok(Send, { input: { roomId, content: 'by carol' } }, as(carol));
    expect(await refusal(server.gql(Delete, { input: { messageId: own.id } }, as(dave)))).toEqual(['FORBIDDEN', undefined]);
    await server.ok(Delete, { input: { messageId: own.id } }, as(bob));
    expect((await auditRows('room.message.delete', raw(own.id))).map((a) => a.actorId)).toEqual([raw(bob.id)]);
    expect(await refusal(server.gql(Remove, { input: { roomId, userId: carol.id } }, as(bob)))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(server.gql(Remove, { input: { roomId, userId: owner.id } }, as(alice)))).toEqual(['FORBIDDEN', 'RANK']);
    const carolFeed = await listen(carol, roomId);
    await server.ok(Remove, { input: { roomId, userId: carol.id } }, as(alice));
    expect((await carolFeed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberLeft', userId: carol.id, reason: 'REMOVED' });
    await carolFeed.ended;
    expect((await auditRows('room.member.remove', raw(carol.id))).map((a) => [a.actorId, a.data])).toEqual([[raw(alice.id), { roomId: raw(roomId), role: 'MEMBER' }]]);
  });
});

describe('bans', () => {
  it('removes the member, ends their feed, hides the room and keeps them out until lifted', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MEMBER'], [carol, 'MEMBER']]);
    const [bobFeed, carolFeed] = await listenAll(roomId, bob, carol);
    const { banRoomMember: ban } = await server.ok(Ban, { input: { roomId, userId: bob.id, reason: 'spam' } }, as(alice));
    expect(ban).toMatchObject({ reason: 'spam', expiresAt: null, room: { id: roomId }, user: { id: bob.id }, bannedBy: { id: alice.id } });
    // Their own RoomMemberLeft (BANNED) is the last event of their feed; the others hear it too.
    expect((await bobFeed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberLeft', userId: bob.id, reason: 'BANNED' });
    await bobFeed.ended;
    expect(await bobFeed.rejection()).toBeUndefined();
    expect((await carolFeed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberLeft', userId: bob.id, reason: 'BANNED' });
    carolFeed.close();

    expect(await refusal(server.gql(Room, { id: roomId }, as(bob)))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(send(bob, roomId))).toEqual(['NOT_FOUND', undefined]);
    const resub = subscribe(server.ws(as(bob)), Events, { roomId });
    expect((await resub.rejection())?.extensions?.code).toBe('NOT_FOUND');
    // Nobody may add them back (and nobody else named with them is added).
    expect(await refusal(server.gql(Add, { input: { roomId, userIds: [dave.id, bob.id] } }, as(carol)))).toEqual(['FORBIDDEN', 'BANNED']);
    expect((await readRoom(owner, roomId)).members.edges.map((e) => e.node.user.id)).not.toContain(dave.id);

    // Moderators see the bans; members do not.
    expect((await server.ok(Bans, { id: roomId }, as(owner))).room!.bans.edges.map((e) => e.node)).toEqual([{ id: ban.id, reason: 'spam', user: { id: bob.id }, bannedBy: { id: alice.id } }]);
    expect(await refusal(server.gql(Bans, { id: roomId }, as(carol)))).toEqual(['FORBIDDEN', undefined]);

    const { unbanRoomMember } = await server.ok(Unban, { input: { roomId, userId: bob.id } }, as(alice));
    expect(unbanRoomMember.deletedId).toBe(ban.id);
    expect(await refusal(server.gql(Unban, { input: { roomId, userId: bob.id } }, as(alice)))).toEqual(['NOT_FOUND', undefined]);
    await server.ok(Add, { input: { roomId, userIds: [bob.id] } }, as(carol));
    expect((await readRoom(bob, roomId)).id).toBe(roomId);

    const [banned] = await auditRows('room.member.ban', raw(bob.id));
    expect(banned).toMatchObject({ actorId: raw(alice.id), targetType: 'User', data: { roomId: raw(roomId), banId: raw(ban.id), reason: 'spam', expiresAt: null, removed: true } });
    expect(await auditRows('room.member.unban', raw(bob.id))).toHaveLength(1);
  });

  it('keeps a banned person from joining a channel until the ban expires', async () => {
    const roomId = await room([[alice, 'MEMBER']], 'CHANNEL');
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const { banRoomMember: ban } = await server.ok(Ban, { input: { roomId, userId: dave.id, expiresAt } }, as(owner));
    expect(ban.expiresAt).toBe(expiresAt);
    expect(await refusal(server.gql(Join, { input: { roomId } }, as(dave)))).toEqual(['FORBIDDEN', 'BANNED']);
    // Expired (moved into the past in the database): no longer in force, and no longer listed.
    await db.roomBan.update({ where: { id: raw(ban.id) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await server.ok(Bans, { id: roomId }, as(owner))).room!.bans.edges).toEqual([]);
    await server.ok(Join, { input: { roomId } }, as(dave));
    expect((await readRoom(dave, roomId)).viewerRole).toBe('MEMBER');
  });

  it('goes by rank, and only for members of the org', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MODERATOR'], [carol, 'ADMIN'], [dave, 'MEMBER']]);
    const ban = (by: TestUser, who: TestUser, extra: object = {}) => server.gql(Ban, { input: { roomId, userId: who.id, ...extra } }, as(by));
    expect(await refusal(ban(alice, owner))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(ban(alice, carol))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(ban(alice, alice))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(ban(bob, dave))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(ban(dave, bob))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(ban(alice, stranger))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(ban(stranger, dave))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(ban(alice, dave, { expiresAt: new Date(Date.now() - 60_000).toISOString() }))).toEqual(['BAD_USER_INPUT', undefined]);
    expect(await refusal(ban(alice, dave, { reason: 'x'.repeat(501) }))).toEqual(['BAD_USER_INPUT', undefined]);
    // Nothing of that changed anything.
    expect((await readRoom(owner, roomId)).members.edges).toHaveLength(5);
    expect(await db.roomBan.count({ where: { roomId: raw(roomId) } })).toBe(0);
    const audited = await db.auditEntry.findMany({ where: { orgId: raw(orgId), action: 'room.member.ban' } });
    expect(audited.filter((a) => (a.data as { roomId?: string } | null)?.roomId === raw(roomId))).toEqual([]);
  });

  it('two bans at once: one ban, one removal', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MEMBER'], [carol, 'MEMBER']]);
    const carolFeed = await listen(carol, roomId);
    const results = await Promise.all([owner, alice].map((u, i) => server.gql(Ban, { input: { roomId, userId: bob.id, reason: `by ${i}` } }, as(u))));
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined]);
    expect(await db.roomBan.count({ where: { roomId: raw(roomId), userId: raw(bob.id) } })).toBe(1);
    expect((await carolFeed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberLeft', userId: bob.id, reason: 'BANNED' });
    await carolFeed.expectSilence(300);
    carolFeed.close();
  });

  it('a ban racing a join: whichever commits first, the banned person ends up outside', async () => {
    const roomId = await room([], 'CHANNEL');
    for (let i = 0; i < 5; i++) {
      const [banned, joined] = await Promise.all([
        server.gql(Ban, { input: { roomId, userId: dave.id } }, as(owner)),
        server.gql(Join, { input: { roomId } }, as(dave)),
      ]);
      expect(banned.errors).toBeUndefined();
      expect([undefined, 'FORBIDDEN']).toContain(joined.errors?.[0].extensions?.code);
      expect(await db.roomMember.count({ where: { roomId: raw(roomId), userId: raw(dave.id) } })).toBe(0);
      await server.ok(Unban, { input: { roomId, userId: dave.id } }, as(owner));
    }
  });
});

describe('mutes', () => {
  it('a muted member reads but cannot send, edit or react; the mute is listed, told and lifted', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MODERATOR'], [carol, 'MEMBER']]);
    const { sendMessage: hers } = await server.ok(Send, { input: { roomId, content: 'before' } }, as(carol));
    await server.ok(React, { input: { messageId: hers.id, emoji: '👍' } }, as(carol));
    const feed = await listen(alice, roomId);
    const { muteRoomMember: mute } = await server.ok(Mute, { input: { roomId, userId: carol.id, reason: 'calm down' } }, as(bob));
    expect(mute).toMatchObject({ reason: 'calm down', expiresAt: null, user: { id: carol.id }, mutedBy: { id: bob.id } });
    expect((await feed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberUpdated', userId: carol.id, role: 'MEMBER', muted: true, muteExpiresAt: null });

    expect(await refusal(send(carol, roomId))).toEqual(['FORBIDDEN', 'MUTED']);
    expect(await refusal(server.gql(Edit, { input: { messageId: hers.id, content: 'after' } }, as(carol)))).toEqual(['FORBIDDEN', 'MUTED']);
    expect(await refusal(server.gql(React, { input: { messageId: hers.id, emoji: '🎉' } }, as(carol)))).toEqual(['FORBIDDEN', 'MUTED']);
    // Taking back one's own reaction is not writing.
    await server.ok(Unreact, { input: { messageId: hers.id, emoji: '👍' } }, as(carol));
    expect((await feed.next()).data?.roomEvents).toEqual({ __typename: 'ReactionChanged' });
    const seen = await readRoom(carol, roomId);
    expect(seen.viewerCanSend).toBe(false);
    expect(seen.messages.edges.map((e) => e.node.content)).toContain('before');
    expect(seen.members.edges.find((e) => e.node.user.id === carol.id)?.node).toMatchObject({ muted: true, muteExpiresAt: null });
    expect((await server.ok(Mutes, { id: roomId }, as(bob))).room!.mutes.edges.map((e) => e.node.id)).toEqual([mute.id]);
    expect(await refusal(server.gql(Mutes, { id: roomId }, as(carol)))).toEqual(['FORBIDDEN', undefined]);

    const { unmuteRoomMember } = await server.ok(Unmute, { input: { roomId, userId: carol.id } }, as(bob));
    expect(unmuteRoomMember).toEqual({ deletedId: mute.id, member: { muted: false, muteExpiresAt: null } });
    expect((await feed.next()).data?.roomEvents).toEqual({ __typename: 'RoomMemberUpdated', userId: carol.id, role: 'MEMBER', muted: false, muteExpiresAt: null });
    feed.close();
    expect((await send(carol, roomId)).errors).toBeUndefined();
    expect(await auditRows('room.member.mute', raw(carol.id))).toHaveLength(1);
    expect(await auditRows('room.member.unmute', raw(carol.id))).toHaveLength(1);
  });

  it('goes by rank', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MODERATOR'], [carol, 'MEMBER'], [dave, 'MEMBER']]);
    const mute = (by: TestUser, who: TestUser) => server.gql(Mute, { input: { roomId, userId: who.id } }, as(by));
    expect(await refusal(mute(bob, alice))).toEqual(['FORBIDDEN', 'RANK']);
    expect(await refusal(mute(carol, dave))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(mute(stranger, dave))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(mute(bob, stranger))).toEqual(['NOT_FOUND', undefined]);
    expect(await refusal(server.gql(Unmute, { input: { roomId, userId: dave.id } }, as(bob)))).toEqual(['NOT_FOUND', undefined]);
    await server.ok(Mute, { input: { roomId, userId: bob.id } }, as(alice));
    // A mute binds a moderator too, who cannot lift their own.
    expect(await refusal(send(bob, roomId))).toEqual(['FORBIDDEN', 'MUTED']);
    expect(await refusal(server.gql(Unmute, { input: { roomId, userId: bob.id } }, as(bob)))).toEqual(['FORBIDDEN', 'RANK']);
  });

  it('ends by itself when it expires', async () => {
    const roomId = await room([[bob, 'MODERATOR'], [carol, 'MEMBER'], [dave, 'MEMBER']]);
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    await server.ok(Mute, { input: { roomId, userId: carol.id, expiresAt } }, as(bob));
    expect(await refusal(send(carol, roomId))).toEqual(['FORBIDDEN', 'MUTED']);
    const m = (await readRoom(owner, roomId)).members.edges.find((e) => e.node.user.id === carol.id)!.node;
    expect(m).toMatchObject({ muted: true, muteExpiresAt: expiresAt });
    // Polls the API until the mute is over, then sends.
    await eventually(async () => (await server.ok(CanSend, { id: roomId }, as(carol))).room!.viewerCanSend, 10_000, 'the mute to expire');
    expect((await send(carol, roomId)).errors).toBeUndefined();
    // Another, expired through the database.
    const { muteRoomMember } = await server.ok(Mute, { input: { roomId, userId: dave.id } }, as(bob));
    expect(await refusal(send(dave, roomId))).toEqual(['FORBIDDEN', 'MUTED']);
    await db.roomMute.update({ where: { id: raw(muteRoomMember.id) }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await send(dave, roomId)).errors).toBeUndefined();
    expect((await server.ok(Mutes, { id: roomId }, as(bob))).room!.mutes.edges).toEqual([]);
  });
});

describe('frozen rooms', () => {
  it('is read-only below MODERATOR while frozen; only ADMINs and OWNERs freeze', async () => {
    const roomId = await room([[alice, 'ADMIN'], [bob, 'MODERATOR'], [carol, 'MEMBER']]);
    const freeze = (u: TestUser, frozen: boolean) => server.gql(Freeze, { input: { roomId, frozen } }, as(u));
    expect(await refusal(freeze(carol, true))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(freeze(bob, true))).toEqual(['FORBIDDEN', undefined]);
    expect(await refusal(freeze(stranger, true))).toEqual(['NOT_FOUND', undefined]);
    const feed = await listen(carol, roomId);
    expect((await freeze(alice, true)).data?.setRoomFrozen).toEqual({ id: roomId, frozen: true, viewerCanSend: true });
    expect((await feed.next()).data?.roomEvents).toEqual({ __typename: 'RoomUpdated', roomId, room: { frozen: true } });
    expect(await refusal(send(carol, roomId))).toEqual(['FORBIDDEN', 'FROZEN']);
    expect((await readRoom(carol, roomId)).viewerCanSend).toBe(false);
    expect((await send(bob, roomId)).errors).toBeUndefined();
    // Freezing a frozen room changes nothing (no event, no audit entry).
    await freeze(owner, true);
    await freeze(alice, false);
    expect((await feed.next()).data?.roomEvents).toMatchObject({ __typename: 'RoomMessageAdded' });
    expect((await feed.next()).data?.roomEvents).toEqual({ __typename: 'RoomUpdated', roomId, room: { frozen: false } });
    feed.close();
    expect((await send(carol, roomId)).errors).toBeUndefined();
    expect((await auditRows('room.freeze', raw(roomId))).map((a) => a.actorId)).toEqual([raw(alice.id)]);
    expect(await auditRows('room.unfreeze', raw(roomId))).toHaveLength(1);
  });
});

describe('webhooks', () => {
  it('tells the org of members added, updated, removed, banned and unbanned, and of room changes', async () => {
    const path = '/moderation-hooks';
    const events = ['ROOM_MEMBER_ADDED', 'ROOM_MEMBER_REMOVED', 'ROOM_MEMBER_UPDATED', 'ROOM_MEMBER_BANNED', 'ROOM_MEMBER_UNBANNED', 'ROOM_UPDATED'] as const;
    await server.ok(CreateWebhook, { input: { orgId, url: `${receiver.url}${path}`, events: [...events] } }, as(owner));
    const roomId = await room([[alice, 'MEMBER']]);
    await server.ok(Add, { input: { roomId, userIds: [bob.id, carol.id] } }, as(alice));
    await server.ok(SetRole, { input: { roomId, userId: alice.id, role: 'MODERATOR' } }, as(owner));
    const { muteRoomMember: mute } = await server.ok(Mute, { input: { roomId, userId: bob.id, expiresAt: new Date(Date.now() + 60_000).toISOString() } }, as(alice));
    await server.ok(Remove, { input: { roomId, userId: carol.id } }, as(owner));
    const { banRoomMember: ban } = await server.ok(Ban, { input: { roomId, userId: bob.id, reason: 'spam' } }, as(owner));
    await server.ok(Unban, { input: { roomId, userId: bob.id } }, as(owner));
    await server.ok(Freeze, { input: { roomId, frozen: true } }, as(owner));

    const hooks = await receiver.waitFor(9, (h) => h.path === path && h.body.data.roomId === roomId);
    // Every delivery's data names its org too.
    expect(new Set(hooks.map((h) => h.body.data.orgId))).toEqual(new Set([orgId]));
    const of = (type: string) => hooks.filter((h) => h.body.type === type).map(({ body: { data: { orgId: _, ...data } } }) => data);
    // createRoom's own members are the room's start, not additions: the two added later are.
    expect(of('ROOM_MEMBER_ADDED').map((d) => d.userId).sort()).toEqual([bob.id, carol.id].sort());
    expect(of('ROOM_MEMBER_UPDATED')).toEqual([
      { roomId, userId: alice.id, role: 'MODERATOR', muted: false, muteExpiresAt: null },
      { roomId, userId: bob.id, role: 'MEMBER', muted: true, muteExpiresAt: mute.expiresAt },
    ]);
    expect(of('ROOM_MEMBER_REMOVED')).toEqual(expect.arrayContaining([{ roomId, userId: carol.id, reason: 'REMOVED' }, { roomId, userId: bob.id, reason: 'BANNED' }]));
    expect(of('ROOM_MEMBER_BANNED')).toEqual([{ roomId, userId: bob.id, banId: ban.id, reason: 'spam', expiresAt: null, bannedById: owner.id, removed: true }]);
    expect(of('ROOM_MEMBER_UNBANNED')).toEqual([{ roomId, userId: bob.id, banId: ban.id, unbannedById: owner.id }]);
    expect(of('ROOM_UPDATED')).toEqual([{ roomId, change: 'FROZEN', name: 'moderated', topic: null, frozen: true, archivedAt: null }]);
  });
});
