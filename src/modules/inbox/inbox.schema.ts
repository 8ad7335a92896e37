import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, forbidden, unauthenticated } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { OrgRole } from '../orgs/orgs.schema.ts';
import { userById } from '../rooms/events.schema.ts';
import { snippetOf } from '../rooms/mentions.service.ts';
import { RoomMessageRef } from '../rooms/messages.schema.ts';
import { roomRows } from '../rooms/rooms.access.ts';
import { messageFromJson, type MessageJson } from '../rooms/rooms.topics.ts';
import { rowById } from '../../db/rows.ts';
import type { Room, User } from '../../generated/sqlite/client.ts';
import { UserRef, ViewerRef } from '../users/users.schema.ts';
import { currentCursor, decodeCursor, viewerTotals } from './inbox.service.ts';
import { inboxFeed, type InboxItem } from './inbox.stream.ts';

type Of<K extends InboxItem['kind']> = Extract<InboxItem, { kind: K }>;

/** GraphQL names of the events (docs/api/conventions.md: the object it is about, then what happened to it). */
const TYPE_NAMES: Record<InboxItem['kind'], string> = {
  RoomAdded: 'InboxRoomAdded',
  RoomRemoved: 'InboxRoomRemoved',
  DirectRoomCreated: 'InboxDirectRoomCreated',
  MessageAdded: 'InboxMessageAdded',
  RoomRead: 'InboxRoomRead',
  NotificationCreated: 'InboxNotificationCreated',
  InviteReceived: 'InboxInviteReceived',
};

/**
 * A row read once per live message for every receiver of it in this process. The bus hands all listeners of a
 * room the same MessageJson object, and each receiver's inbox item carries that object: a message to a room of
 * 1,000 members reads its room and its author once, not 1,000 times (a subscription's loaders are fresh per event
 * and per receiver). Fresh per event, so never stale by more than the event.
 */
const perMessage = new WeakMap<object, Map<string, Promise<unknown>>>();
function oncePerMessage<T>(message: object, key: string, read: () => Promise<T | null>, what: string): Promise<T> {
  let rows = perMessage.get(message);
  if (!rows) perMessage.set(message, (rows = new Map()));
  let row = rows.get(key) as Promise<T> | undefined;
  if (!row) rows.set(key, (row = read().then((r) => r ?? Promise.reject(new Error(`${what} not found`)))));
  return row;
}


const cursorField = (t: any) =>
  t.exposeString('cursor', { description: 'Pass it as `inbox(after:)` to resume after this event (opaque).' });

/** The fields of events about one of your rooms (typed loosely: Pothos cannot type a shared field set). */
const roomFields = (t: any): Record<string, any> => ({
  cursor: cursorField(t),
  room: t.prismaField({
    type: 'Room',
    description: 'The room, as it is now.',
    resolve: async (query: object, e: { roomId: string; message?: MessageJson }, _args: unknown, ctx: Context) =>
      Object.keys(query).length
        ? db.room.findUniqueOrThrow({ ...query, where: { id: e.roomId } })
        : e.message
          ? oncePerMessage(e.message, 'room', () => rowById<Room>('Room', e.roomId), 'Room')
          : roomRows(ctx).load(e.roomId),
  }),
  unreadCount: t.exposeInt('unreadCount', { description: "Messages in the room after your read marker, as of this event." }),
  mentionCount: t.exposeInt('mentionCount', { description: 'Messages in the room after your read marker that mention you, as of this event.' }),
});

const RoomAdded = builder.objectRef<Of<'RoomAdded'>>('InboxRoomAdded').implement({
  description: 'You joined a room or were added to one (also a room you created), or a room of yours was unarchived: its messages reach the inbox from now on.',
  fields: (t) => ({ ...roomFields(t) }),
});
const RoomRemoved = builder.objectRef<Of<'RoomRemoved'>>('InboxRoomRemoved').implement({
  description:
    'You left a room or were removed from it, or from its org, or the room was deleted or archived: nothing more of it reaches the inbox. It carries only the room\'s ID, since you may no longer read the room (you still read an archived one).',
  fields: (t) => ({
    cursor: cursorField(t),
    roomId: t.id({ description: 'The global ID of the room: drop it from your room list.', resolve: (e) => encodeGlobalID('Room', e.roomId) }),
  }),
});
const DirectRoomCreated = builder.objectRef<Of<'DirectRoomCreated'>>('InboxDirectRoomCreated').implement({
  description: 'A direct room with you was opened (by you or by the other person): its messages reach the inbox from now on.',
  fields: (t) => ({
    ...roomFields(t),
    createdBy: t.field({ type: UserRef, description: 'Who opened it.', resolve: (e, _args, ctx) => userById(ctx, e.byUserId) }),
  }),
});
const MessageAdded = builder.objectRef<Of<'MessageAdded'>>('InboxMessageAdded').implement({
  description:
    'A new message in one of your rooms (yours too: it marks the room read up to it), with your counts in the room after it. After a resume, one per room active since the cursor, with the newest message: it may repeat one you had (keep, per room, the highest seq).',
  fields: (t) => ({
    ...roomFields(t),
    seq: t.int({ description: "The message's seq in the room.", resolve: (e) => e.message.seq }),
    message: t.field({ type: RoomMessageRef, description: 'The message.', resolve: (e) => messageFromJson(e.message) }),
    author: t.field({
      type: UserRef,
      description: 'Who sent it.',
      resolve: (e) => oncePerMessage(e.message, 'author', () => rowById<User>('User', e.message.senderId), 'User'),
    }),
    snippet: t.string({
      description: 'The start of the text on one line (at most 140 characters); empty for a deleted message.',
      resolve: (e) => (e.message.deletedAt ? '' : snippetOf(e.message.content)),
    }),
    mentioned: t.exposeBoolean('mentioned', { description: 'The message mentions you.' }),
  }),
});
const RoomRead = builder.objectRef<Of<'RoomRead'>>('InboxRoomRead').implement({
  description: 'Your read marker in a room moved forward (`markRead`, from this device or another), with your counts after it.',
  fields: (t) => ({
    ...roomFields(t),
    seq: t.exposeInt('seq', { description: 'You have read everything up to this seq.' }),
  }),
});
const NotificationCreated = builder.objectRef<Of<'NotificationCreated'>>('InboxNotificationCreated').implement({
  description: 'A notification was sent to you (also on the `notifications` subscription).',
  fields: (t) => ({
    cursor: cursorField(t),
    notification: t.prismaField({
      type: 'Notification',
      description: 'The notification, as it is now.',
      resolve: (query, e) => db.notification.findUniqueOrThrow({ ...query, where: { id: e.notificationId } }),
    }),
  }),
});
const InviteReceived = builder.objectRef<Of<'InviteReceived'>>('InboxInviteReceived').implement({
  description:
    'An org invited your email address. Only what the invite shows its invitee: accepting takes the token the inviter sent you (`acceptInvite`).',
  fields: (t) => ({
    cursor: cursorField(t),
    inviteId: t.id({ description: 'The global ID of the invite.', resolve: (e) => encodeGlobalID('Invite', e.invite.inviteId) }),
    orgId: t.id({ description: 'The global ID of the org (readable once you are a member).', resolve: (e) => encodeGlobalID('Org', e.invite.orgId) }),
    orgName: t.string({ description: "The org's name when the invite was sent.", resolve: (e) => e.invite.orgName }),
    role: t.field({ type: OrgRole, description: 'The role you get on accepting.', resolve: (e) => e.invite.role }),
    invitedByName: t.string({ description: 'The name of the admin who sent it.', resolve: (e) => e.invite.invitedByName }),
    expiresAt: t.field({ type: 'DateTime', description: 'After this it can no longer be accepted.', resolve: (e) => new Date(e.invite.expiresAt) }),
  }),
});

const InboxEvent = builder.unionType('InboxEvent', {
  description: 'Something for your room list and badges, as the `inbox` subscription delivers it. Every member has a `cursor` to resume after it.',
  types: [RoomAdded, RoomRemoved, DirectRoomCreated, MessageAdded, RoomRead, NotificationCreated, InviteReceived],
  resolveType: (e) => TYPE_NAMES[(e as InboxItem).kind],
});

/** Users only: anonymous callers and session tokens sign in first, API keys have no inbox. */
const isInboxViewer = (ctx: Context) =>
  ctx.viewer.kind === 'user' || (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session' ? unauthenticated() : forbidden('The inbox is for users'));

builder.subscriptionFields((t) => ({
  inbox: t.field({
    type: InboxEvent,
    description:
      'One stream for your room list: rooms you are added to or removed from, new direct rooms, every message in any of your rooms with your unread and mention counts, your read markers, notifications and invites. ' +
      'Without `after`, what happens from now on. With `after` (the `cursor` of the last event you handled, or `me.inboxCursor`): the rooms, DMs, notifications and invites since then, each exactly once and in order, ' +
      'then the newest message of each room active since then (which may repeat one you had), then live events. A malformed cursor is BAD_USER_INPUT; anonymous callers are UNAUTHENTICATED, API keys FORBIDDEN.',
    args: { after: t.arg.string({ description: 'Resume after this cursor (an event\'s `cursor`, or `me.inboxCursor`).' }) },
    subscribe: (parent, args, ctx) => {
      // The guard's re-checks (an access change, and about once a minute) also bring the feed's rooms in line.
      let resync: (() => void) | undefined;
      return authorizedSubscribe<{ after?: string | null }, InboxItem>(
        (c, a) => {
          const ok = isInboxViewer(c);
          if (ok !== true) return ok;
          if (a.after != null && !decodeCursor(a.after)) return badInput('after: not an inbox cursor', 'after');
          resync?.();
          return true;
        },
        (a, c) => {
          const opened = inboxFeed(c.app, c.viewer.kind === 'user' ? c.viewer.userId : '', a.after != null ? decodeCursor(a.after) : null);
          resync = opened.resync;
          return opened.feed;
        },
      )(parent, args, ctx);
    },
    resolve: (event) => event as any,
  }),
}));

const totals = (ctx: Context, userId: string) => ctx.loader<string, { unreadCount: number; mentionCount: number }>('viewerTotals', (ids) => Promise.all(ids.map(viewerTotals))).load(userId);

builder.prismaObjectField(ViewerRef, 'unreadCount', (t) =>
  t.int({
    description: 'Unread messages over all your rooms (those after your read marker in each).',
    resolve: async (user, _args, ctx) => (await totals(ctx, user.id)).unreadCount,
  }),
);
builder.prismaObjectField(ViewerRef, 'mentionCount', (t) =>
  t.int({
    description: 'Unread messages that mention you, over all your rooms.',
    resolve: async (user, _args, ctx) => (await totals(ctx, user.id)).mentionCount,
  }),
);
builder.prismaObjectField(ViewerRef, 'inboxCursor', (t) =>
  t.string({
    description:
      'The inbox cursor of now: read it with your room list, then subscribe to `inbox(after:)` with it, and nothing that happens in between is missed.',
    resolve: (user) => currentCursor(user.id),
  }),
);
