import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation InboxCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const OpenDm = graphql(`
  mutation InboxOpenDm($input: OpenDirectRoomInput!) { openDirectRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation InboxSend($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }
`);
const MarkRead = graphql(`
  mutation InboxMarkRead($input: MarkReadInput!) { markRead(input: $input) { lastReadSeq } }
`);
const AddMembers = graphql(`
  mutation InboxAddMembers($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }
`);
const RemoveMember = graphql(`
  mutation InboxRemoveMember($input: RemoveRoomMemberInput!) { removeRoomMember(input: $input) { deletedId } }
`);
const Join = graphql(`
  mutation InboxJoin($input: JoinRoomInput!) { joinRoom(input: $input) { id } }
`);
const Leave = graphql(`
  mutation InboxLeave($input: LeaveRoomInput!) { leaveRoom(input: $input) { roomId } }
`);
const Notify = graphql(`
  mutation InboxNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }
`);
const Invite = graphql(`
  mutation InboxInvite($input: InviteMemberInput!) { inviteMember(input: $input) { invite { id } } }
`);
const RemoveOrgMember = graphql(`
  mutation InboxRemoveOrgMember($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId } }
`);
const Me = graphql(`
  query InboxMe { me { unreadCount mentionCount inboxCursor } }
`);
const Inbox = graphql(`
  subscription InboxLive($after: String) {
    inbox(after: $after) {
      __typename
      ... on InboxRoomAdded { cursor room { id } unreadCount mentionCount }
      ... on InboxRoomRemoved { cursor roomId }
      ... on InboxDirectRoomCreated { cursor room { id type } unreadCount mentionCount createdBy { id } }
      ... on InboxMessageAdded { cursor room { id } seq message { id content } author { id } snippet unreadCount mentionCount mentioned }
      ... on InboxRoomRead { cursor room { id } seq unreadCount mentionCount }
      ... on InboxNotificationCreated { cursor notification { id topic payload } }
      ... on InboxInviteReceived { cursor inviteId orgId orgName role invitedByName expiresAt }
    }
  }
`);

type Event = { __typename: string; cursor: string; [k: string]: any };

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

/** A fresh org (owner, alice, bob): each test sees only its own rooms. */
async function world() {
  const o = await orgWithMembers(server, 2);
  const [alice, bob] = o.members;
  return { orgId: o.org.id, owner: o.owner, alice, bob };
}

const group = async (creator: TestUser, orgId: string, members: TestUser[], type: 'GROUP' | 'CHANNEL' = 'GROUP') =>
  (await server.ok(CreateRoom, { input: { orgId, type, name: 'Room', memberIds: members.map((m) => m.id) } }, { token: creator.token })).createRoom.id;
const send = async (user: TestUser, roomId: string, content: string) => (await server.ok(Send, { input: { roomId, content } }, { token: user.token })).sendMessage;
const me = async (user: TestUser) => (await server.ok(Me, {}, { token: user.token })).me!;

/** The user's inbox from now on: subscribed with the cursor of now, so nothing after this call is missed. */
async function inboxOf(user: TestUser, after?: string) {
  const cursor = after ?? (await me(user)).inboxCursor;
  return subscribe(server.ws({ token: user.token }), Inbox, { after: cursor });
}
const next = async (sub: LiveSubscription<any>): Promise<Event> => {
  const e = await sub.next();
  expect(e.errors, JSON.stringify(e.errors)).toBeUndefined();
  return e.data!.inbox as Event;
};

const hasMentionIds = /input SendMessageInput \{[^}]*\bmentionIds\b/.test(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

describe('inbox', () => {
  it('carries messages of all your rooms with your counts; your own message and markRead reset them; others hear nothing', async () => {
    const { orgId, owner, alice, bob } = await world();
    const a = await group(owner, orgId, [alice]);
    const b = await group(bob, orgId, [alice]);
    const outsider = (await orgWithMembers(server, 0)).owner;
    const sub = await inboxOf(alice);
    const stranger = await inboxOf(outsider);
    const bobs = await inboxOf(bob);

    const m1 = await send(owner, a, 'hello\n\n  there');
    expect(await next(sub)).toMatchObject({
      __typename: 'InboxMessageAdded', room: { id: a }, seq: 1, message: { id: m1.id, content: 'hello\n\n  there' }, author: { id: owner.id },
      snippet: 'hello there', unreadCount: 1, mentionCount: 0, mentioned: false, cursor: expect.any(String),
    });
    await send(bob, b, 'x'.repeat(300));
    const inB = await next(sub);
    expect(inB).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: b }, seq: 1, unreadCount: 1, author: { id: bob.id } });
    expect(Array.from(inB.snippet as string)).toHaveLength(140);
    // Bob's own message: in his inbox, read.
    expect(await next(bobs)).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: b }, seq: 1, unreadCount: 0 });
    await send(owner, a, 'two');
    expect(await next(sub)).toMatchObject({ room: { id: a }, seq: 2, unreadCount: 2 });
    expect(await me(alice)).toMatchObject({ unreadCount: 3, mentionCount: 0 });

    // Alice's own message marks the room read up to it.
    await send(alice, a, 'mine');
    expect(await next(sub)).toMatchObject({ room: { id: a }, seq: 3, unreadCount: 0, author: { id: alice.id } });
    await send(owner, a, 'four');
    expect(await next(sub)).toMatchObject({ room: { id: a }, seq: 4, unreadCount: 1 });
    expect(await me(alice)).toMatchObject({ unreadCount: 2 });

    // markRead (from any device) is InboxRoomRead with the counts reset.
    await server.ok(MarkRead, { input: { roomId: b, seq: 1 } }, { token: alice.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomRead', room: { id: b }, seq: 1, unreadCount: 0, mentionCount: 0 });
    expect(await me(alice)).toMatchObject({ unreadCount: 1 });
    await server.ok(MarkRead, { input: { roomId: a, seq: 2 } }, { token: alice.token });
    // Already read up to 3 (her own message): the marker does not move back, nothing happens.
    await server.ok(MarkRead, { input: { roomId: a, seq: 4 } }, { token: alice.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomRead', room: { id: a }, seq: 4, unreadCount: 0 });
    expect(await me(alice)).toMatchObject({ unreadCount: 0, mentionCount: 0 });

    await sub.expectSilence();
    await stranger.expectSilence(100);
    sub.close();
    stranger.close();
    bobs.close();
  });

  it('announces rooms you are added to, then their messages; after a removal, nothing more of the room', async () => {
    const { orgId, owner, alice, bob } = await world();
    const other = await group(owner, orgId, [alice]);
    const room = await group(owner, orgId, [bob]);
    const channel = await group(bob, orgId, [], 'CHANNEL');
    const sub = await inboxOf(alice);

    await server.ok(AddMembers, { input: { roomId: room, userIds: [alice.id] } }, { token: owner.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomAdded', room: { id: room }, unreadCount: 0, mentionCount: 0 });
    await send(owner, room, 'welcome');
    expect(await next(sub)).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: room }, seq: 1, unreadCount: 1 });

    await server.ok(RemoveMember, { input: { roomId: room, userId: alice.id } }, { token: owner.token });
    expect(await next(sub)).toEqual({ __typename: 'InboxRoomRemoved', roomId: room, cursor: expect.any(String) });
    await send(owner, room, 'after she left');
    await send(owner, other, 'still here');
    // Only the message of the room she is still in arrives.
    expect(await next(sub)).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: other }, message: { content: 'still here' } });

    // Joining a channel, then leaving it.
    await send(bob, channel, 'before');
    await server.ok(Join, { input: { roomId: channel } }, { token: alice.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomAdded', room: { id: channel }, unreadCount: 1 });
    await send(bob, channel, 'hi alice');
    expect(await next(sub)).toMatchObject({ room: { id: channel }, seq: 2, unreadCount: 2 });
    await server.ok(Leave, { input: { roomId: channel } }, { token: alice.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomRemoved', roomId: channel });
    await send(bob, channel, 'gone');
    await send(owner, other, 'only this');
    expect(await next(sub)).toMatchObject({ room: { id: other }, message: { content: 'only this' } });
    await sub.expectSilence();
    sub.close();
  });

  it('drops the rooms of an org you are removed from', async () => {
    const { orgId, owner, alice } = await world();
    const room = await group(owner, orgId, [alice]);
    const elsewhere = await orgWithMembers(server, 0);
    const sub = await inboxOf(alice);
    await server.ok(RemoveOrgMember, { input: { orgId, userId: alice.id } }, { token: owner.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomRemoved', roomId: room });
    await send(owner, room, 'not for alice');
    // An invite to another org still arrives (and is the next event: the room's message did not).
    await server.ok(Invite, { input: { orgId: elsewhere.org.id, email: alice.email, role: 'MEMBER' } }, { token: elsewhere.owner.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxInviteReceived' });
    expect(await me(alice)).toMatchObject({ unreadCount: 0 });
    sub.close();
  });

  it('announces a new direct room to both people, notifications and invites', async () => {
    const { orgId, owner, alice, bob } = await world();
    const sub = await inboxOf(alice);
    const bobs = await inboxOf(bob);
    const { openDirectRoom } = await server.ok(OpenDm, { input: { orgId, userId: alice.id } }, { token: bob.token });
    for (const s of [sub, bobs]) {
      expect(await next(s)).toMatchObject({ __typename: 'InboxDirectRoomCreated', room: { id: openDirectRoom.id, type: 'DM' }, createdBy: { id: bob.id }, unreadCount: 0 });
    }
    // Opening it again is the same room: nothing new.
    await server.ok(OpenDm, { input: { orgId, userId: bob.id } }, { token: alice.token });
    await send(bob, openDirectRoom.id, 'psst');
    expect(await next(sub)).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: openDirectRoom.id }, unreadCount: 1 });
    expect(await next(bobs)).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: openDirectRoom.id }, unreadCount: 0 });

    await server.ok(Notify, { input: { orgId, topic: 'deploy', payload: { v: 1 }, targets: { userIds: [alice.id] } } }, { token: owner.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxNotificationCreated', notification: { topic: 'deploy', payload: { v: 1 } } });

    const carol = await registerUser(server, { name: 'Carol' });
    const carols = await inboxOf(carol);
    const { inviteMember } = await server.ok(Invite, { input: { orgId, email: carol.email.toUpperCase(), role: 'ADMIN' } }, { token: owner.token });
    expect(await next(carols)).toEqual({
      __typename: 'InboxInviteReceived', cursor: expect.any(String), inviteId: inviteMember.invite.id, orgId, orgName: 'Acme', role: 'ADMIN',
      invitedByName: 'Owner', expiresAt: expect.any(String),
    });
    await bobs.expectSilence(100);
    await sub.expectSilence(100);
    for (const s of [sub, bobs, carols]) s.close();
  });

  it('resumes after a cursor: log events exactly once and in order, then the newest message of each active room', async () => {
    const { orgId, owner, alice, bob } = await world();
    const a = await group(owner, orgId, [alice]);
    const b = await group(owner, orgId, [bob]);
    const start = (await me(alice)).inboxCursor;
    // A witness stays connected throughout: when it has heard an event, that event is stored.
    const witness = await inboxOf(alice, start);
    await send(owner, a, 'a1');
    expect(await next(witness)).toMatchObject({ seq: 1 });
    const first = await inboxOf(alice, start);
    const seen = await next(first);
    expect(seen).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: a }, seq: 1 });
    first.close();

    // While she is away: a notification, a room she is added to, messages.
    await server.ok(Notify, { input: { orgId, topic: 't', payload: 1, targets: { userIds: [alice.id] } } }, { token: owner.token });
    expect(await next(witness)).toMatchObject({ __typename: 'InboxNotificationCreated' });
    await server.ok(AddMembers, { input: { roomId: b, userIds: [alice.id] } }, { token: owner.token });
    expect(await next(witness)).toMatchObject({ __typename: 'InboxRoomAdded' });
    for (const [room, text] of [[a, 'a2'], [b, 'b1'], [a, 'a3']] as const) {
      await send(owner, room, text);
      expect(await next(witness)).toMatchObject({ message: { content: text } });
    }

    for (let round = 0; round < 2; round++) {
      const again = await inboxOf(alice, seen.cursor);
      const events = [await next(again), await next(again), await next(again), await next(again)];
      expect(events.map((e) => [e.__typename, e.room?.id ?? null])).toEqual([
        ['InboxNotificationCreated', null],
        ['InboxRoomAdded', b],
        // The snapshot: each active room once, with its newest message and current counts, oldest activity first.
        ['InboxMessageAdded', b],
        ['InboxMessageAdded', a],
      ]);
      expect(events[2]).toMatchObject({ seq: 1, message: { content: 'b1' }, unreadCount: 1 });
      expect(events[3]).toMatchObject({ seq: 3 + round, message: { content: round ? 'live 0' : 'a3' }, unreadCount: 3 + round });
      // Then live, from where the replay ended.
      await send(owner, a, `live ${round}`);
      expect(await next(again)).toMatchObject({ seq: 4 + round, unreadCount: 4 + round });
      expect(await next(witness)).toMatchObject({ seq: 4 + round });
      // Resuming from the last log event's cursor replays no log event again (only the snapshot may repeat).
      const tail = await inboxOf(alice, events[1].cursor);
      const replayed = [await next(tail), await next(tail)];
      expect(replayed.map((e) => e.__typename)).toEqual(['InboxMessageAdded', 'InboxMessageAdded']);
      await tail.expectSilence(200);
      tail.close();
      await again.expectSilence(100);
      again.close();
    }
    witness.close();
  });

  it('refuses a malformed cursor, anonymous callers and API keys', async () => {
    const { orgId, owner } = await world();
    for (const after of ['nope', Buffer.from('1.x').toString('base64url'), Buffer.from('-1.5').toString('base64url'), 'x'.repeat(100)]) {
      const sub = subscribe(server.ws({ token: owner.token }), Inbox, { after });
      const err = await sub.rejection();
      expect(err?.extensions?.code, after).toBe('BAD_USER_INPUT');
    }
    const anonymous = subscribe(server.ws({}), Inbox, {});
    expect((await anonymous.rejection())?.extensions?.code).toBe('UNAUTHENTICATED');
    const key = await createApiKey(server, owner, orgId, ['READ', 'WRITE']);
    const keyed = subscribe(server.ws({ apiKey: key.key }), Inbox, {});
    expect((await keyed.rejection())?.extensions?.code).toBe('FORBIDDEN');
    expect((await server.ok(Me, {}, { apiKey: key.key })).me).toBeNull();
  });

  // The mentions come with sendMessage's mentionIds (the "replies" branch); skipped until it is merged.
  it.skipIf(!hasMentionIds)('counts mentions of you above your read marker', async () => {
    const { orgId, owner, alice } = await world();
    const room = await group(owner, orgId, [alice]);
    const sub = await inboxOf(alice);
    const SendMentioning = `mutation InboxSendMentioning($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;
    await server.ok<any, any>(SendMentioning, { input: { roomId: room, content: 'hey @alice', mentionIds: [alice.id] } }, { token: owner.token });
    // The message and the mention's notification (announced after the commit, in either order).
    const both = [await next(sub), await next(sub)] as any[];
    expect(both.find((e) => e.__typename === 'InboxMessageAdded')).toMatchObject({ seq: 1, mentioned: true, mentionCount: 1, unreadCount: 1 });
    expect(both.find((e) => e.__typename === 'InboxNotificationCreated')).toMatchObject({ notification: { topic: 'mention', payload: { seq: 1, snippet: 'hey @alice' } } });
    const latest = await send(owner, room, 'no mention');
    expect(await next(sub)).toMatchObject({ seq: 2, mentioned: false, mentionCount: 1, unreadCount: 2 });
    expect(await me(alice)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
    // A new subscription loads the same counts.
    const fresh = await inboxOf(alice);
    await send(owner, room, 'three');
    // Subscribing from me.inboxCursor repeats the newest message of a room active within the skew margin (the
    // snapshot) when the feed starts before 'three' is committed: then it is exactly the room's newest message at
    // that time, with the counts of then. Started after, the snapshot is 'three' itself, and nothing repeats.
    let first = await next(fresh);
    if (first.seq !== 3) {
      expect(first).toEqual({
        __typename: 'InboxMessageAdded', cursor: expect.any(String), room: { id: room }, seq: 2, message: { id: latest.id, content: 'no mention' },
        author: { id: owner.id }, snippet: 'no mention', unreadCount: 2, mentionCount: 1, mentioned: false,
      });
      first = await next(fresh);
    }
    expect(first).toMatchObject({ __typename: 'InboxMessageAdded', room: { id: room }, seq: 3, message: { content: 'three' }, mentioned: false, mentionCount: 1, unreadCount: 3 });
    await next(sub);
    await server.ok(MarkRead, { input: { roomId: room, seq: 3 } }, { token: alice.token });
    expect(await next(sub)).toMatchObject({ __typename: 'InboxRoomRead', unreadCount: 0, mentionCount: 0 });
    expect(await me(alice)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
    sub.close();
    fresh.close();
  });
});
