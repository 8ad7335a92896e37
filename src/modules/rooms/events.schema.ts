import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { RoomMessageRef } from './messages.schema.ts';
import { checkRoom } from './rooms.access.ts';
import { roomRows } from './rooms.access.ts';
import { RoomRole } from './rooms.schema.ts';
import { roomEventFeed } from './rooms.stream.ts';
import { messageFromJson, type MessageJson, type RoomEvent } from './rooms.topics.ts';

type Of<K extends RoomEvent['kind']> = Extract<RoomEvent, { kind: K }>;

/** Users named by events (rooms' and the inbox's), batched within an event. */
export function userById(ctx: Context, id: string) {
  return ctx
    .loader<string, any>('eventUserById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((i) => byId.get(i) ?? new Error('User not found'));
    })
    .load(id);
}

/** GraphQL names of the events (docs/api/conventions.md: the object it is about, then what happened to it). */
const TYPE_NAMES: Record<RoomEvent['kind'], string> = {
  MessageAdded: 'RoomMessageAdded',
  MessageEdited: 'RoomMessageEdited',
  MessageDeleted: 'RoomMessageDeleted',
  RepliesUpdated: 'RoomMessageRepliesUpdated',
  ReactionChanged: 'ReactionChanged',
  ReadReceipt: 'ReadReceiptUpdated',
  Typing: 'TypingChanged',
  MemberJoined: 'RoomMemberJoined',
  MemberLeft: 'RoomMemberLeft',
  MemberUpdated: 'RoomMemberUpdated',
  RoomUpdated: 'RoomUpdated',
  RoomDeleted: 'RoomDeleted',
  MessagePinChanged: 'RoomMessagePinChanged',
  HistoryPruned: 'RoomHistoryPruned',
};

const withMessage = (
  kind: 'MessageAdded' | 'MessageEdited' | 'MessageDeleted' | 'RepliesUpdated',
  description: string,
  messageDescription: string,
  seqDescription = "The message's seq.",
) =>
  builder.objectRef<{ message: MessageJson }>(TYPE_NAMES[kind]).implement({
    description,
    fields: (t) => ({
      seq: t.int({ description: seqDescription, resolve: (e) => e.message.seq }),
      message: t.field({ type: RoomMessageRef, description: messageDescription, resolve: (e) => messageFromJson(e.message) }),
    }),
  });

/** The fields of events about one person (typed loosely: Pothos cannot type a shared field set). */
const withUser = (t: any, who: string): Record<string, any> => ({
  userId: t.id({ description: `The global ID of ${who}.`, resolve: (e: { userId: string }) => encodeGlobalID('User', e.userId) }),
  user: t.field({ type: UserRef, description: `${who[0].toUpperCase()}${who.slice(1)}.`, resolve: (e: { userId: string }, _args: unknown, ctx: Context) => userById(ctx, e.userId) }),
});

const MessageAdded = withMessage('MessageAdded', 'A new message (also every stored message replayed after `afterSeq`).', 'The message.');
const MessageEdited = withMessage('MessageEdited', 'A message was edited.', 'The message with its new content.');
const MessageDeleted = withMessage('MessageDeleted', 'A message was deleted; its seq stays, its content is gone.', 'The tombstone: no content, `deleted: true`.');
const RepliesUpdated = withMessage(
  'RepliesUpdated',
  "A message's replies changed: a reply to it was sent (that reply arrives as its own RoomMessageAdded just before) or deleted. Not replayed after `afterSeq`: a resuming client reads the counts of the messages it shows.",
  'The replied-to message with its new `replyCount` and `lastReplyAt`.',
  "The replied-to message's seq (its own, not a new one: no seq is used by this event).",
);
const ReactionChanged = builder.objectRef<Of<'ReactionChanged'>>('ReactionChanged').implement({
  description: 'Someone added or took back a reaction to a message.',
  fields: (t) => ({
    ...withUser(t, 'the person who reacted'),
    message: t.field({ type: RoomMessageRef, description: 'The message reacted to (its `reactions` are the new counts).', resolve: (e) => messageFromJson(e.message) }),
    emoji: t.exposeString('emoji', { description: 'The emoji added or taken back.' }),
    added: t.exposeBoolean('added', { description: 'True when the reaction was added, false when it was removed.' }),
    count: t.exposeInt('count', { description: 'How many people now react with this emoji (0 when none is left).' }),
  }),
});
const ReadReceiptUpdated = builder.objectRef<Of<'ReadReceipt'>>('ReadReceiptUpdated').implement({
  description: "A member's read marker moved forward (`markRead`, or sending a message).",
  fields: (t) => ({ ...withUser(t, 'the member'), seq: t.exposeInt('seq', { description: 'They have read everything up to this seq.' }) }),
});
const TypingChanged = builder.objectRef<Of<'Typing'>>('TypingChanged').implement({
  description: 'A member started or stopped typing (never your own). Typing stops by itself when not renewed within a few seconds.',
  fields: (t) => ({ ...withUser(t, 'the member'), typing: t.exposeBoolean('typing', { description: 'True while they type, false when they stopped.' }) }),
});
const MemberJoined = builder.objectRef<Of<'MemberJoined'>>('RoomMemberJoined').implement({
  description: 'Someone joined the room or was added to it.',
  fields: (t) => ({ ...withUser(t, 'the new member'), role: t.field({ type: RoomRole, description: 'Their role in the room.', resolve: (e) => e.role }) }),
});
const MemberLeftReasonEnum = builder.enumType('RoomMemberLeftReason', {
  description: 'Why someone is no longer a member of a room.',
  values: {
    LEFT: { description: 'They left (leaveRoom).' },
    REMOVED: { description: 'A room admin removed them (removeRoomMember).' },
    BANNED: { description: 'A room admin banned them (banRoomMember, or a report resolved with a ban).' },
    ORG_REMOVED: { description: 'They left the org or were removed from it.' },
    ACCOUNT_DELETED: { description: 'They deleted their account.' },
    ROOM_DELETED: { description: 'The room was deleted.' },
  } as const,
});
const MemberLeft = builder.objectRef<Of<'MemberLeft'>>('RoomMemberLeft').implement({
  description: 'Someone left or was removed. When it is the viewer, this is the last event of the subscription.',
  fields: (t) => ({
    ...withUser(t, 'the person who left'),
    reason: t.field({ type: MemberLeftReasonEnum, description: 'Why they are out.', resolve: (e) => e.reason ?? 'LEFT' }),
  }),
});
const MemberUpdated = builder.objectRef<Of<'MemberUpdated'>>('RoomMemberUpdated').implement({
  description: "A member's role changed, or they were muted or unmuted.",
  fields: (t) => ({
    ...withUser(t, 'the member'),
    role: t.field({ type: RoomRole, description: 'Their role now.', resolve: (e) => e.role }),
    muted: t.exposeBoolean('muted', { description: 'True while they may read but not send.' }),
    muteExpiresAt: t.field({ type: 'DateTime', nullable: true, description: 'When the mute ends by itself; null when not muted or muted until unmuted.', resolve: (e) => (e.muteExpiresAt ? new Date(e.muteExpiresAt) : null) }),
  }),
});
const RoomUpdatedEvent = builder.objectRef<Of<'RoomUpdated'>>('RoomUpdated').implement({
  description: "The room's own fields changed: renamed, topic set, frozen or unfrozen, archived or unarchived.",
  fields: (t) => ({
    roomId: t.id({ description: 'The global ID of the room.', resolve: (e) => encodeGlobalID('Room', e.roomId) }),
    room: t.prismaField({ type: 'Room', nullable: true, description: 'The room as it is now; null when you may no longer see it.', resolve: (_q, e, _a, ctx) => roomRows(ctx).load(e.roomId) }),
  }),
});
const RoomDeletedEvent = builder.objectRef<Of<'RoomDeleted'>>('RoomDeleted').implement({
  description: 'The room was deleted with its messages. This is the last event of the subscription.',
  fields: (t) => ({ roomId: t.id({ description: 'The global ID of the deleted room.', resolve: (e) => encodeGlobalID('Room', e.roomId) }) }),
});
const MessagePinChanged = builder.objectRef<Of<'MessagePinChanged'>>('RoomMessagePinChanged').implement({
  description: 'A message was pinned or unpinned (`message.pinnedAt` is null when unpinned).',
  fields: (t) => ({
    pinned: t.boolean({ description: 'True when it was pinned, false when unpinned.', resolve: (e) => !!e.message.pinnedAt }),
    message: t.field({ type: RoomMessageRef, description: 'The message.', resolve: (e) => messageFromJson(e.message) }),
  }),
});

const HistoryPruned = builder.objectRef<Of<'HistoryPruned'>>('RoomHistoryPruned').implement({
  description:
    "The room's retention deleted its messages up to and including `throughSeq`: they are gone for good (Room.prunedThroughSeq). A resume whose `afterSeq` is below it gets this first, then the stored messages after it; live, it follows each pass of the retention worker that pruned the room.",
  fields: (t) => ({ throughSeq: t.exposeInt('throughSeq', { description: 'The highest seq deleted: messages at or below it no longer exist.' }) }),
});

const RoomEventUnion = builder.unionType('RoomEvent', {
  description: 'Something that happened in a room, as `roomEvents` delivers it.',
  types: [MessageAdded, MessageEdited, MessageDeleted, RepliesUpdated, ReactionChanged, ReadReceiptUpdated, TypingChanged, MemberJoined, MemberLeft, MemberUpdated, RoomUpdatedEvent, RoomDeletedEvent, MessagePinChanged, HistoryPruned],
  resolveType: (e) => TYPE_NAMES[(e as RoomEvent).kind],
});

builder.subscriptionFields((t) => ({
  roomEvents: t.field({
    type: RoomEventUnion,
    description:
      'Everything that happens in a room you are a member of (NOT_FOUND otherwise). With `afterSeq`, every stored message after it comes first (as RoomMessageAdded; preceded by RoomHistoryPruned when `afterSeq` is below Room.prunedThroughSeq), then live events, with no gap and no duplicate. It ends after your own RoomMemberLeft, or when you leave the org.',
    args: {
      roomId: t.arg.id({ required: true, description: 'The room to follow.' }),
      afterSeq: t.arg.int({ description: 'Resume after this seq (the highest the client has; 0 for the whole history). Left out: only what happens from now on. Negative: BAD_USER_INPUT.' }),
    },
    subscribe: authorizedSubscribe<{ roomId: unknown; afterSeq?: number | null }, RoomEvent>(
      (ctx, args) =>
        args.afterSeq != null && args.afterSeq < 0 ? badInput('afterSeq: must be 0 or more', 'afterSeq') : checkRoom(ctx, idOf(args.roomId, 'Room', 'roomId')),
      (args, ctx) => roomEventFeed(ctx.app, idOf(args.roomId, 'Room', 'roomId'), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', args.afterSeq),
    ),
    resolve: (event) => event as any,
  }),
}));
