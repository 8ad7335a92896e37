import { z } from 'zod';
import type { AppServices, Context } from '../../context.ts';
import { db, Prisma, type Tx } from '../../db/client.ts';
import { badInput, forbidden, gone, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { idOf } from '../../auth/rules.ts';
import { atLeast, requireUserId, viewerRoomAccess } from './rooms.access.ts';
import { recordAudit } from '../audit/audit.service.ts';
import type { RoomMessage } from '../../generated/sqlite/client.ts';
import { commitMessage, jsonValue, type Publish } from './messages.commit.ts';
import { messageToJson } from './rooms.topics.ts';
import { checkMentions, mentionIdsOf, notifyMentions } from './mentions.service.ts';
import { jsonWithin } from '../../validation.ts';
import { prepareAttachments, removeRoomMessageAttachments } from '../attachments/attachments.service.ts';
import { pushDirectMessage } from '../push/push.service.ts';

/** Built once per config (not per send: building zod schemas showed in the send profile). */
const schemasByConfig = new WeakMap<object, ReturnType<typeof buildMessageSchemas>>();
function messageSchemas(ctx: Context) {
  const rooms = ctx.app.config.rooms;
  let schemas = schemasByConfig.get(rooms);
  if (!schemas) schemasByConfig.set(rooms, (schemas = buildMessageSchemas(rooms)));
  return schemas;
}

function buildMessageSchemas({ maxMessageLength, maxMetaBytes }: { maxMessageLength: number; maxMetaBytes: number }) {
  const content = z
    .string()
    .max(maxMessageLength, `must be at most ${maxMessageLength} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty');
  return {
    send: z.object({
      content,
      metadata: jsonWithin(maxMetaBytes).optional(),
      clientMsgId: z.string().min(1).max(100, 'must be at most 100 characters').nullish(),
    }),
    edit: z.object({ content, metadata: jsonWithin(maxMetaBytes).optional() }),
  };
}

/** The ACT_AS key that sends on the member's behalf (X-Acting-User), recorded with the message. */
const viaKeyOf = (ctx: Context) => (ctx.viewer.kind === 'user' ? (ctx.viewer.via?.apiKeyId ?? null) : null);


/** Sends with a clientMsgId being committed by this process: a duplicate waits for the first instead of racing it. */
const inFlight = new Map<string, Promise<RoomMessage>>();

/**
 * Store-then-send with a gap-free seq: the room's counter is incremented and the message inserted in
 * one transaction (the room row's lock, or SQLite's single writer, orders concurrent senders; a failed
 * insert rolls the increment back), and subscribers hear of it only after the commit. Concurrent sends
 * to a room share that transaction (group commit, see messages.commit.ts). The same sender and
 * clientMsgId always get the original message back.
 */
export async function sendMessage(
  ctx: Context,
  roomId: string,
  input: { parentId?: unknown; mentionIds?: readonly unknown[] | null } & Record<string, unknown>,
): Promise<RoomMessage> {
  const senderId = requireUserId(ctx);
  const data = parseInput(messageSchemas(ctx).send, input);
  const clientMsgId = data.clientMsgId ?? null;
  const parentId = input.parentId != null ? idOf(input.parentId, 'RoomMessage', 'parentId') : null;
  const mentionIds = mentionIdsOf(input.mentionIds);
  let orgId = '';
  const original = () =>
    db.roomMessage.findUnique({ where: { roomId_senderId_clientMsgId: { roomId, senderId, clientMsgId: clientMsgId! } } });
  const publish: Publish = (m, parent, room) => {
    try {
      const message = messageToJson(m, mentionIds);
      if (attachmentIds) message.attachmentIds = attachmentIds;
      ctx.app.pubsub.publish('room:event', roomId, { kind: 'MessageAdded', message });
      if (parent) ctx.app.pubsub.publish('room:event', roomId, { kind: 'RepliesUpdated', message: messageToJson(parent) });
      // Web Push for DMs (the room's type came back from the commit's own update of the room row).
      if (room.type === 'DM') pushDirectMessage(ctx.app, room.orgId, m, mentionIds);
    } catch (err) {
      ctx.log.error({ err, roomId, seq: m.seq }, 'publishing MessageAdded failed');
      throw err;
    } finally {
      if (mentionIds.length) notifyMentions(ctx, orgId, m, mentionIds);
    }
  };
  // Attachments: checked here, attached in the send's own transaction (messages.commit.ts); none, no extra statement.
  const attachmentIds = await roomAttachments(ctx, roomId, senderId, input);
  const commit = async () => {
    // Replies and mentions are checked here, before anything is stored (a plain send reads nothing more).
    if (parentId || mentionIds.length) {
      const [, org] = await Promise.all([parentId && checkParent(roomId, parentId), mentionIds.length && checkMentions(ctx, roomId, mentionIds)]);
      orgId = org || '';
    }
    return commitMessage(
      { roomId, senderId, content: data.content, meta: data.metadata, clientMsgId, viaApiKeyId: viaKeyOf(ctx), parentId, mentionIds, attachmentIds },
      publish,
    );
  };
  if (!clientMsgId) return commit();

  const found = await original();
  if (found) return found;
  const key = `${roomId}\0${senderId}\0${clientMsgId}`;
  const first = inFlight.get(key);
  if (first) {
    // The same message is on its way: its row is the answer (if it failed, this one tries on its own).
    const m = await first.catch(() => null);
    if (m) return m;
  }
  const attempt = commit().catch(async (err) => {
    const again = isUniqueViolation(err) ? await original() : null;
    if (again) return again;
    throw err;
  });
  inFlight.set(key, attempt);
  try {
    return await attempt;
  } finally {
    if (inFlight.get(key) === attempt) inFlight.delete(key);
  }
}

/**
 * A reply's parent must be a live, top-level message of the same room (BAD_USER_INPUT naming `parentId`
 * otherwise, the same answer for an unknown id and another room's message, so nothing about other rooms leaks).
 * The commit checks it again under the parent's row lock.
 */
async function checkParent(roomId: string, parentId: string): Promise<void> {
  const parent = await db.roomMessage.findUnique({ where: { id: parentId }, select: { roomId: true, parentId: true, deletedAt: true } });
  if (!parent || parent.roomId !== roomId) throw badInput('parentId: no such message in this room', 'parentId');
  if (parent.deletedAt) throw badInput('parentId: that message was deleted', 'parentId');
  if (parent.parentId) throw badInput('parentId: that message is itself a reply: reply to the message it replies to', 'parentId');
}

/** The message, when the viewer sent it, or (`moderate`) when they are a MODERATOR or above in its room (FORBIDDEN otherwise). */
async function loadOwnMessage(ctx: Context, messageId: string, moderate: boolean) {
  const userId = requireUserId(ctx);
  const message = await db.roomMessage.findUnique({ where: { id: messageId } });
  if (!message) throw notFound('Message');
  let moderatedIn: string | null = null;
  if (message.senderId !== userId) {
    const access = moderate ? await viewerRoomAccess(ctx, message.roomId) : null;
    if (!access || !atLeast(access.role, 'MODERATOR')) throw forbidden('Only the sender can change this message');
    moderatedIn = access.orgId;
  }
  return { message, moderatedIn };
}

/** The previous content goes to the edit history; a deleted message cannot be edited. */
export async function editMessage(ctx: Context, messageId: string, input: unknown) {
  const data = parseInput(messageSchemas(ctx).edit, input);
  const { message: before } = await loadOwnMessage(ctx, messageId, false);
  if (before.deletedAt) throw gone('This message was deleted');
  const message = await db.$transaction(async (tx) => {
    await tx.roomMessageEdit.create({ data: { messageId, content: before.content, meta: jsonValue(before.meta) } });
    return tx.roomMessage.update({
      where: { id: messageId },
      data: { content: data.content, ...(data.metadata !== undefined ? { meta: jsonValue(data.metadata) } : {}), editedAt: new Date() },
    });
  });
  ctx.app.pubsub.publish('room:event', message.roomId, { kind: 'MessageEdited', message: messageToJson(message) });
  return message;
}

/**
 * Soft delete: the content (and its history, reactions and mentions) is gone, the seq stays so that sequences
 * stay gap-free. A deleted parent keeps its replies. A deleted reply no longer counts in its parent's
 * replyCount (and lastReplyAt becomes that of the newest live reply): RoomMessageRepliesUpdated tells the room.
 */
export async function deleteMessage(ctx: Context, messageId: string) {
  const { message: before, moderatedIn } = await loadOwnMessage(ctx, messageId, true);
  if (before.deletedAt) return before;
  const done = await db.$transaction(async (tx) => {
    const done = await deleteMessageRows(tx, messageId);
    // A moderator's removal of someone else's message is an audited action.
    if (done && moderatedIn) {
      const data = { roomId: before.roomId, authorId: before.senderId };
      await recordAudit(tx, { orgId: moderatedIn, actor: ctx.viewer, action: 'room.message.delete', targetType: 'RoomMessage', targetId: messageId, data });
    }
    return done;
  });
  if (!done) return db.roomMessage.findUniqueOrThrow({ where: { id: messageId } });
  await afterMessageDeleted(ctx.app, done);
  return done.message;
}

export type DeletedMessage = NonNullable<Awaited<ReturnType<typeof deleteMessageRows>>>;

/**
 * The delete itself, in the caller's transaction (deleteMessage, and resolveReport acting on a report): null when
 * the message was deleted already. Only the delete that finds the message live goes on (two at once would take a
 * reply off its parent twice).
 */
export async function deleteMessageRows(tx: Tx, messageId: string) {
  const { count } = await tx.roomMessage.updateMany({ where: { id: messageId, deletedAt: null }, data: { content: '', meta: Prisma.DbNull, deletedAt: new Date() } });
  if (!count) return null;
  const message = await tx.roomMessage.findUniqueOrThrow({ where: { id: messageId } });
  await tx.roomMessageEdit.deleteMany({ where: { messageId } });
  await tx.roomReaction.deleteMany({ where: { messageId } });
  await tx.roomMention.deleteMany({ where: { messageId } });
  return { message, parent: message.parentId ? await uncountReply(tx, message.parentId) : null };
}

/** After the delete committed: the room hears of it, and its attachments go. */
export async function afterMessageDeleted(app: AppServices, { message, parent }: DeletedMessage) {
  app.pubsub.publish('room:event', message.roomId, { kind: 'MessageDeleted', message: messageToJson(message) });
  if (parent) app.pubsub.publish('room:event', message.roomId, { kind: 'RepliesUpdated', message: messageToJson(parent) });
  await removeRoomMessageAttachments(app, message.id);
}

/** sendMessage's attachmentIds, decoded and checked (attachments.service.ts); undefined when none. */
async function roomAttachments(ctx: Context, roomId: string, senderId: string, input: unknown): Promise<string[] | undefined> {
  const given = (input as { attachmentIds?: unknown[] | null }).attachmentIds;
  if (!given?.length) return undefined;
  const ids = given.map((id) => idOf(id, 'Attachment', 'attachmentIds'));
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) throw notFound('Room');
  return prepareAttachments(ctx.app, senderId, access.orgId, ids);
}

/** A reply was deleted: one fewer on its parent (under the parent's row lock), whose lastReplyAt is then its newest live reply's. */
async function uncountReply(tx: Tx, parentId: string) {
  const parent = await tx.roomMessage.update({ where: { id: parentId }, data: { replyCount: { decrement: 1 } } });
  const newest = await tx.roomMessage.findFirst({ where: { parentId, deletedAt: null }, orderBy: { seq: 'desc' }, select: { createdAt: true } });
  const lastReplyAt = newest?.createdAt ?? null;
  if (lastReplyAt?.getTime() === parent.lastReplyAt?.getTime()) return parent;
  return tx.roomMessage.update({ where: { id: parentId }, data: { lastReplyAt } });
}
