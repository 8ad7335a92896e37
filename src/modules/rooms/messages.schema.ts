import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';
import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { builder } from '../../schema/builder.ts';
import * as messages from './messages.service.ts';
import { mentionedUsers, mentionsViewer, usersById, viewerMentionCount } from './mentions.service.ts';
import { UserRef } from '../users/users.schema.ts';
import { setReaction } from './reactions.service.ts';
import type { RoomMessage } from '../../generated/sqlite/client.ts';

interface ReactionSummary {
  emoji: string;
  count: number;
  reactedByViewer: boolean;
}

const Reaction = builder.simpleObject('ReactionSummary', {
  description: 'One emoji on a message: how many people reacted with it, and whether you did.',
  // reactedByViewer is computed for the viewer (reactionsOf): it is not in rooms' liveShared list.
  fields: (t) => ({
    emoji: t.string({ description: 'The emoji, as sent to `addReaction`.' }),
    count: t.int({ description: 'How many people react with it (at least 1).' }),
    reactedByViewer: t.boolean({ description: 'Whether you are one of them (`removeReaction` takes yours back).' }),
  }),
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
    content: t.exposeString('content', { description: 'The content before the edit.' }),
    metadata: t.expose('meta', { type: 'JSON', nullable: true, description: "The sender's metadata before the edit; null when there was none." }),
    replacedAt: t.expose('createdAt', { type: 'DateTime', description: 'When this version was replaced by the edit.' }),
  }),
});

export const RoomMessageRef = builder.prismaNode('RoomMessage', {
  description: 'A message in a room, sent by one of its members. Deleting it keeps its seq (a tombstone without content).',
  id: { field: 'id', description: 'The global ID of the message.' },
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Gap-free and strictly increasing within the room, from 1: a client resumes `roomEvents` after the highest it has.' }),
    room: t.relation('room', { description: 'The room it was sent in.' }),
    author: t.relation('sender', { description: 'The member who sent it (also when an ACT_AS API key sent it on their behalf).' }),
    content: t.string({ nullable: true, description: 'The text; null once deleted.', resolve: (m) => (m.deletedAt ? null : m.content) }),
    metadata: t.expose('meta', { type: 'JSON', nullable: true, description: "The sender's own data sent with the message (Confab does not read it); null when none or once deleted." }),
    clientMsgId: t.exposeString('clientMsgId', { nullable: true, description: "The sender's idempotency key given to `sendMessage`, if any." }),
    viaApiKeyId: t.id({
      nullable: true,
      description: "The ACT_AS API key that sent it on the author's behalf (X-Acting-User); null when the author sent it.",
      resolve: (m) => (m.viaApiKeyId ? encodeGlobalID('ApiKey', m.viaApiKeyId) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was sent.' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true, description: 'When it was last edited; null when never.' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', nullable: true, description: 'When it was deleted; null while it is not.' }),
    deleted: t.boolean({ description: 'Whether it was deleted (its content, metadata, edits and reactions are gone).', resolve: (m) => m.deletedAt !== null }),
    edits: t.relation('edits', { description: 'Earlier versions, oldest first (empty once deleted).', query: { orderBy: { createdAt: 'asc' } } }),
    reactions: t.field({ type: [Reaction], description: 'The reactions, one entry per emoji in the order first used.', resolve: (m, _args, ctx) => reactionsOf(ctx, m.id) }),
    parent: t.relation('parent', {
      nullable: true,
      description: 'The message this one replies to (`sendMessage` with `parentId`), in the same room; null for a top-level message. A deleted parent is its tombstone.',
    }),
    replyCount: t.exposeInt('replyCount', {
      description: 'How many replies it has (deleted replies do not count). A RoomMessageRepliesUpdated event tells the room when it changes.',
    }),
    lastReplyAt: t.expose('lastReplyAt', { type: 'DateTime', nullable: true, description: 'When the newest of its replies was sent; null when it has none.' }),
    mentions: t.field({
      type: [UserRef],
      description: 'The members it mentions (`sendMessage` with `mentionIds`), each once; empty when none or once deleted.',
      resolve: (m, _args, ctx) => {
        const known = (m as { mentionIds?: string[] }).mentionIds;
        return known ? usersById(ctx, known) : mentionedUsers(ctx, m.id);
      },
    }),
    mentionsViewer: t.boolean({
      description: 'Whether it mentions you (differs per viewer).',
      resolve: (m, _args, ctx) => {
        const known = (m as { mentionIds?: string[] }).mentionIds;
        if (known) return ctx.viewer.kind === 'user' && known.includes(ctx.viewer.userId);
        return mentionsViewer(ctx, m.id);
      },
    }),
  }),
});

/** The one connection of room messages (Room.messages, RoomMessage.replies). */
export const RoomMessageConnection = builder.connectionObject(
  {
    type: RoomMessageRef,
    name: 'RoomMessageConnection',
    description: 'A page of room messages, oldest first.',
    edgesField: { description: 'The messages of this page, oldest first.' },
  },
  { name: 'RoomMessageEdge', description: 'A room message and its cursor.', nodeField: { description: 'The message.' } },
);

builder.prismaObjectFields('RoomMessage', (t) => ({
    replies: t.relatedConnection(
      'replies',
      {
        cursor: 'id',
        description:
          'The replies to this message, oldest first (deleted ones as tombstones), with the same page limits as `Room.messages`: `first: 20` for the first ones, `last: 20` for the latest. Empty for a reply (replies are one level deep).',
        maxSize: (_args, ctx) => ctx.app.config.rooms.maxMessagesPerPage,
        query: { orderBy: { seq: 'asc' } },
      },
      RoomMessageConnection,
    ),
}));

builder.prismaObjectFields('Room', (t) => ({
  messages: t.relatedConnection(
    'messages',
    {
      cursor: 'id',
      description:
        "The room's messages in seq order, oldest first: `last: 50` is the latest page, then `before` its startCursor for older ones. `afterSeq`/`beforeSeq` narrow it to seqs after/before a seq (e.g. what a client missed: `afterSeq: <highest seq it has>, first: 100`). A page holds at most rooms.maxMessagesPerPage messages (100 by default).",
      args: {
        afterSeq: t.arg.int({ description: 'Only messages with a seq above this one.' }),
        beforeSeq: t.arg.int({ description: 'Only messages with a seq below this one.' }),
        topLevelOnly: t.arg.boolean({
          defaultValue: false,
          description: 'Leave out replies (read them through `RoomMessage.replies`): the channel view of a room with threads. Seqs of a page then have gaps where replies are.',
        }),
      },
      maxSize: (_args, ctx) => ctx.app.config.rooms.maxMessagesPerPage,
      query: (args) => ({
        where: {
          seq: { ...(args.afterSeq != null ? { gt: args.afterSeq } : {}), ...(args.beforeSeq != null ? { lt: args.beforeSeq } : {}) },
          ...(args.topLevelOnly ? { parentId: null } : {}),
        },
        orderBy: { seq: 'asc' },
      }),
    },
    RoomMessageConnection,
  ),
  mentionCount: t.int({
    description: "The viewer's unread mentions: messages mentioning them with a seq above their read marker (`markRead` clears them, as does sending a message after them).",
    resolve: (room, _args, ctx) => viewerMentionCount(ctx, room.id),
  }),
}));

const SendMessageInput = builder.inputType('SendMessageInput', {
  description: 'A message to send to a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A room you are a member of (NOT_FOUND otherwise).' }),
    content: t.string({ required: true, description: 'The text: not blank, at most rooms.maxMessageLength characters (BAD_USER_INPUT otherwise).' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data to keep with the message: any JSON up to rooms.maxMetaBytes once serialized (BAD_USER_INPUT otherwise).' }),
    clientMsgId: t.string({ description: 'Idempotency key (1 to 100 characters): retrying with the same value returns the original message instead of a new one.' }),
    parentId: t.id({
      description:
        "Sends a reply to this message: a message of the same room that is neither deleted nor itself a reply (BAD_USER_INPUT otherwise, also for an unknown id or another room's message; nothing is sent). The reply gets the room's next seq like any message; the parent's replyCount and lastReplyAt change with it.",
    }),
    mentionIds: t.idList({
      description:
        'Members of the room to mention (global User IDs): duplicates count once, at most 50; anyone who is not a member of the room is BAD_USER_INPUT and nothing is sent. Each mentioned member but you gets a `mention` notification.',
    }),
    attachmentIds: t.idList({
      description:
        'Uploads (createUpload) to attach, in this order: at most storage.max_per_message, each your own, of the room’s org, uploaded and not attached to another message (BAD_USER_INPUT otherwise, and nothing is sent).',
    }),
  }),
});
const EditMessageInput = builder.inputType('EditMessageInput', {
  description: 'New content for one of your messages.',
  fields: (t) => ({
    messageId: t.id({ required: true, description: 'A message you sent (FORBIDDEN for anyone else\'s; GONE once deleted).' }),
    content: t.string({ required: true, description: 'The new text, with the same limits as when sending.' }),
    metadata: t.field({ type: 'JSON', description: 'New metadata: left out keeps the current one, null clears it.' }),
  }),
});
const DeleteMessageInput = builder.inputType('DeleteMessageInput', {
  description: 'The message to delete.',
  fields: (t) => ({
    messageId: t.id({ required: true, description: "A message you sent, or any message of a room you are an ADMIN of (FORBIDDEN otherwise)." }),
  }),
});
const reactionInput = (name: string, description: string, messageDescription: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      messageId: t.id({ required: true, description: messageDescription }),
      emoji: t.string({ required: true, description: 'The emoji: 1 to 32 characters without spaces (BAD_USER_INPUT otherwise).' }),
    }),
  });
const AddReactionInput = reactionInput('AddReactionInput', 'Your reaction to a message.', 'A message of a room you are a member of (GONE once deleted).');
const RemoveReactionInput = reactionInput('RemoveReactionInput', 'The reaction of yours to take back.', 'A message of a room you are a member of (GONE once deleted).');

const DeleteMessagePayload = builder.objectRef<{ message: RoomMessage }>('DeleteMessagePayload').implement({
  description: 'The result of `deleteMessage`.',
  fields: (t) => ({
    deletedId: t.id({ description: 'The global ID of the deleted message.', resolve: (p) => encodeGlobalID('RoomMessage', p.message.id) }),
    message: t.prismaField({
      type: 'RoomMessage',
      description: 'The tombstone left in its place: same seq, no content, `deleted: true`.',
      resolve: (query, p) => (Object.keys(query).length === 0 ? p.message : reload(query, p.message.id)),
    }),
  }),
});

const messageIdOf = (input: { messageId: unknown }) => idOf(input.messageId, 'RoomMessage', 'messageId');
const reload = (query: object, id: string) => db.roomMessage.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  sendMessage: t.prismaField({
    type: 'RoomMessage',
    description: 'Sends a message to a room: stored with the next seq, then delivered to the room as a RoomMessageAdded event. Marks the room read up to it for you.',
    args: { input: t.arg({ type: SendMessageInput, required: true, description: 'The room and the message.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const sent = await messages.sendMessage(ctx, idOf(input.roomId, 'Room', 'roomId'), input);
      // The stored row is the answer when nothing nested is asked (e.g. `{ id seq }`): no second read per send.
      return Object.keys(query).length === 0 ? sent : reload(query, sent.id);
    },
  }),
  editMessage: t.prismaField({
    type: 'RoomMessage',
    description: 'Changes the content (and metadata) of one of your messages; the previous version goes to its `edits`. A RoomMessageEdited event tells the room.',
    args: { input: t.arg({ type: EditMessageInput, required: true, description: 'The message and its new content.' }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await messages.editMessage(ctx, messageIdOf(input), input)).id),
  }),
  deleteMessage: t.field({
    type: DeleteMessagePayload,
    description:
      "Deletes a message: its content, metadata, edits and reactions are gone, its seq stays as a tombstone. The sender or a room ADMIN may; deleting twice changes nothing. A RoomMessageDeleted event tells the room.",
    args: { input: t.arg({ type: DeleteMessageInput, required: true, description: 'The message to delete.' }) },
    resolve: async (_root, { input }, ctx) => ({ message: await messages.deleteMessage(ctx, messageIdOf(input)) }),
  }),
  addReaction: t.prismaField({
    type: 'RoomMessage',
    description: 'Adds your reaction with an emoji to a message (adding it twice changes nothing) and returns the message. A ReactionChanged event tells the room.',
    args: { input: t.arg({ type: AddReactionInput, required: true, description: 'The message and the emoji.' }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setReaction(ctx, messageIdOf(input), input.emoji, true)).id),
  }),
  removeReaction: t.prismaField({
    type: 'RoomMessage',
    description:
      'Takes back your reaction with an emoji (nothing changes when you had none) and returns the message: a reaction is part of its message, not an object of its own, so there is no id to evict. A ReactionChanged event tells the room.',
    args: { input: t.arg({ type: RemoveReactionInput, required: true, description: 'The message and the emoji.' }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setReaction(ctx, messageIdOf(input), input.emoji, false)).id),
  }),
}));
