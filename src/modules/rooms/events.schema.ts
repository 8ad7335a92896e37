import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { RoomMessageRef } from './messages.schema.ts';
import { checkRoom } from './rooms.access.ts';
import { RoomRole } from './rooms.schema.ts';
import { roomEventFeed } from './rooms.stream.ts';
import { messageFromJson, type MessageJson, type RoomEvent } from './rooms.topics.ts';

type Of<K extends RoomEvent['kind']> = Extract<RoomEvent, { kind: K }>;

/** Users named by events, loaded once per subscription however many events name them. */
function userById(ctx: Context, id: string) {
  return ctx
    .loader<string, any>('eventUserById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((i) => byId.get(i) ?? new Error('User not found'));
    })
    .load(id);
}

/**
 * GraphQL names of the events. The message events carry a `Room` prefix because the threads domain
 * already names its own `MessageAdded` (a thread message); the rest keep the names.
 */
const TYPE_NAMES: Record<RoomEvent['kind'], string> = {
  MessageAdded: 'RoomMessageAdded',
  MessageEdited: 'RoomMessageEdited',
  MessageDeleted: 'RoomMessageDeleted',
  ReactionChanged: 'ReactionChanged',
  ReadReceipt: 'ReadReceipt',
  Typing: 'Typing',
  MemberJoined: 'MemberJoined',
  MemberLeft: 'MemberLeft',
};

const withMessage = (kind: 'MessageAdded' | 'MessageEdited' | 'MessageDeleted', description: string) =>
  builder.objectRef<{ message: MessageJson }>(TYPE_NAMES[kind]).implement({
    description,
    fields: (t) => ({
      seq: t.int({ resolve: (e) => e.message.seq }),
      message: t.field({ type: RoomMessageRef, resolve: (e) => messageFromJson(e.message) }),
    }),
  });

/** The fields of events about one person (typed loosely: Pothos cannot type a shared field set). */
const withUser = (t: any): Record<string, any> => ({
  userId: t.id({ resolve: (e: { userId: string }) => encodeGlobalID('User', e.userId) }),
  user: t.field({ type: UserRef, resolve: (e: { userId: string }, _args: unknown, ctx: Context) => userById(ctx, e.userId) }),
});

const MessageAdded = withMessage('MessageAdded', 'A new message (also every stored message replayed after `afterSeq`).');
const MessageEdited = withMessage('MessageEdited', 'A message was edited; `message` holds the new content.');
const MessageDeleted = withMessage('MessageDeleted', 'A message was deleted; its seq stays, its content is gone.');
const ReactionChanged = builder.objectRef<Of<'ReactionChanged'>>('ReactionChanged').implement({
  fields: (t) => ({
    ...withUser(t),
    message: t.field({ type: RoomMessageRef, resolve: (e) => messageFromJson(e.message) }),
    emoji: t.exposeString('emoji'),
    added: t.exposeBoolean('added', { description: 'False when the reaction was removed.' }),
    count: t.exposeInt('count', { description: 'How many people now react with this emoji.' }),
  }),
});
const ReadReceipt = builder.objectRef<Of<'ReadReceipt'>>('ReadReceipt').implement({
  fields: (t) => ({ ...withUser(t), seq: t.exposeInt('seq') }),
});
const Typing = builder.objectRef<Of<'Typing'>>('Typing').implement({
  fields: (t) => ({ ...withUser(t), typing: t.exposeBoolean('typing') }),
});
const MemberJoined = builder.objectRef<Of<'MemberJoined'>>('MemberJoined').implement({
  fields: (t) => ({ ...withUser(t), role: t.field({ type: RoomRole, resolve: (e) => e.role }) }),
});
const MemberLeft = builder.objectRef<Of<'MemberLeft'>>('MemberLeft').implement({
  description: 'Someone left or was removed. When it is the viewer, this is the last event of the subscription.',
  fields: (t) => ({ ...withUser(t) }),
});

const RoomEventUnion = builder.unionType('RoomEvent', {
  types: [MessageAdded, MessageEdited, MessageDeleted, ReactionChanged, ReadReceipt, Typing, MemberJoined, MemberLeft],
  resolveType: (e) => TYPE_NAMES[(e as RoomEvent).kind],
});

builder.subscriptionFields((t) => ({
  roomEvents: t.field({
    type: RoomEventUnion,
    description:
      'Everything that happens in a room. With `afterSeq`, every stored message after it comes first, then live events, with no gap and no duplicate.',
    args: { roomId: t.arg.id({ required: true }), afterSeq: t.arg.int() },
    subscribe: authorizedSubscribe<{ roomId: unknown; afterSeq?: number | null }, RoomEvent>(
      (ctx, args) =>
        args.afterSeq != null && args.afterSeq < 0 ? badInput('afterSeq: must be 0 or more', 'afterSeq') : checkRoom(ctx, idOf(args.roomId, 'Room', 'roomId')),
      (args, ctx) => roomEventFeed(ctx.app, idOf(args.roomId, 'Room', 'roomId'), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', args.afterSeq),
    ),
    resolve: (event) => event as any,
  }),
}));
