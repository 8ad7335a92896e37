import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';
import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { builder } from '../../schema/builder.ts';
import * as messages from './messages.service.ts';
import { setReaction } from './reactions.service.ts';

interface ReactionSummary {
  emoji: string;
  count: number;
  reactedByViewer: boolean;
}

const Reaction = builder.simpleObject('ReactionSummary', {
  // reactedByViewer is computed for the viewer (reactionsOf): it is not in rooms' liveShared list.
  fields: (t) => ({ emoji: t.string(), count: t.int(), reactedByViewer: t.boolean() }),
});

/** Reactions of many messages in one query, counted per emoji in first-used order. */
function reactionsOf(ctx: Context, messageId: string): Promise<ReactionSummary[]> {
  const viewerId = ctx.viewer.kind === 'user' ? ctx.viewer.userId : '';
  return ctx
    .loader<string, ReactionSummary[]>('reactionsOf', async (ids) => {
      const rows = await db.roomReaction.findMany({ where: { messageId: { in: [...ids] } }, orderBy: { createdAt: 'asc' } });
      const byMessage = new Map<string, Map<string, ReactionSummary>>();
      for (const r of rows) {
        const sums = byMessage.get(r.messageId) ?? new Map<string, ReactionSummary>();
        byMessage.set(r.messageId, sums);
        const s = sums.get(r.emoji) ?? { emoji: r.emoji, count: 0, reactedByViewer: false };
        sums.set(r.emoji, s);
        s.count += 1;
        s.reactedByViewer ||= r.userId === viewerId;
      }
      return ids.map((id) => [...(byMessage.get(id)?.values() ?? [])]);
    })
    .load(messageId);
}

builder.prismaObject('RoomMessageEdit', {
  description: 'What a message said before one of its edits.',
  fields: (t) => ({
    content: t.exposeString('content'),
    meta: t.expose('meta', { type: 'JSON', nullable: true }),
    replacedAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const RoomMessageRef = builder.prismaNode('RoomMessage', {
  id: { field: 'id' },
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Gap-free and strictly increasing within the room, from 1.' }),
    room: t.relation('room'),
    sender: t.relation('sender'),
    content: t.string({ nullable: true, description: 'Null once deleted.', resolve: (m) => (m.deletedAt ? null : m.content) }),
    meta: t.expose('meta', { type: 'JSON', nullable: true }),
    clientMsgId: t.exposeString('clientMsgId', { nullable: true }),
    viaApiKeyId: t.id({
      nullable: true,
      description: "The ACT_AS API key that sent it on the sender's behalf (X-Acting-User); null when the sender sent it.",
      resolve: (m) => (m.viaApiKeyId ? encodeGlobalID('ApiKey', m.viaApiKeyId) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true }),
    deleted: t.boolean({ resolve: (m) => m.deletedAt !== null }),
    edits: t.relation('edits', { description: 'Earlier versions, oldest first.', query: { orderBy: { createdAt: 'asc' } } }),
    reactions: t.field({ type: [Reaction], resolve: (m, _args, ctx) => reactionsOf(ctx, m.id) }),
  }),
});

builder.prismaObjectFields('Room', (t) => ({
  messages: t.field({
    type: [RoomMessageRef],
    description: 'Messages in seq order: after `afterSeq` (oldest first), else before `beforeSeq`, else the latest. `limit` defaults to 50 and is capped.',
    args: { afterSeq: t.arg.int(), beforeSeq: t.arg.int(), limit: t.arg.int() },
    resolve: (room, args, ctx) => messages.listMessages(ctx, room.id, args),
  }),
  messagesConnection: t.relatedConnection('messages', {
    cursor: 'id',
    description: 'The same messages as a Relay connection, oldest first.',
    query: { orderBy: { seq: 'asc' } },
  }),
}));

const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    roomId: t.id({ required: true }),
    content: t.string({ required: true }),
    meta: t.field({ type: 'JSON' }),
    clientMsgId: t.string({ description: 'Retrying with the same value returns the original message instead of a new one.' }),
  }),
});
const EditMessageInput = builder.inputType('EditMessageInput', {
  fields: (t) => ({ messageId: t.id({ required: true }), content: t.string({ required: true }), meta: t.field({ type: 'JSON' }) }),
});
const MessageIdInput = builder.inputType('MessageIdInput', { fields: (t) => ({ messageId: t.id({ required: true }) }) });
const ReactionInput = builder.inputType('ReactionInput', {
  fields: (t) => ({ messageId: t.id({ required: true }), emoji: t.string({ required: true }) }),
});

const messageIdOf = (input: { messageId: unknown }) => idOf(input.messageId, 'RoomMessage', 'messageId');
const reload = (query: object, id: string) => db.roomMessage.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  sendMessage: t.prismaField({
    type: 'RoomMessage',
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const sent = await messages.sendMessage(ctx, idOf(input.roomId, 'Room', 'roomId'), input);
      // The stored row is the answer when nothing nested is asked (e.g. `{ id seq }`): no second read per send.
      return Object.keys(query).length === 0 ? sent : reload(query, sent.id);
    },
  }),
  editMessage: t.prismaField({
    type: 'RoomMessage',
    args: { input: t.arg({ type: EditMessageInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await messages.editMessage(ctx, messageIdOf(input), input)).id),
  }),
  deleteMessage: t.prismaField({
    type: 'RoomMessage',
    args: { input: t.arg({ type: MessageIdInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await messages.deleteMessage(ctx, messageIdOf(input))).id),
  }),
  addReaction: t.prismaField({
    type: 'RoomMessage',
    args: { input: t.arg({ type: ReactionInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setReaction(ctx, messageIdOf(input), input.emoji, true)).id),
  }),
  removeReaction: t.prismaField({
    type: 'RoomMessage',
    args: { input: t.arg({ type: ReactionInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setReaction(ctx, messageIdOf(input), input.emoji, false)).id),
  }),
}));
