import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db, Prisma } from '../../db.ts';
import { badInput, forbidden, gone, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { requireUserId, viewerRoomAccess } from './rooms.access.ts';
import { messageToJson } from './rooms.topics.ts';

/** JSON that fits in `maxBytes` once serialized. */
export function jsonWithin(maxBytes: number) {
  return z.unknown().superRefine((value, issue) => {
    const size = Buffer.byteLength(JSON.stringify(value ?? null));
    if (size > maxBytes) issue.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON (got ${size})` });
  });
}

function messageSchemas(ctx: Context) {
  const { maxMessageLength, maxMetaBytes } = ctx.app.config.rooms;
  const content = z
    .string()
    .max(maxMessageLength, `must be at most ${maxMessageLength} characters`)
    .refine((s) => s.trim().length > 0, 'must not be empty');
  return {
    send: z.object({
      content,
      meta: jsonWithin(maxMetaBytes).optional(),
      clientMsgId: z.string().min(1).max(100, 'must be at most 100 characters').nullish(),
    }),
    edit: z.object({ content, meta: jsonWithin(maxMetaBytes).optional() }),
  };
}

const jsonValue = (v: unknown) => (v === undefined ? undefined : v === null ? Prisma.DbNull : (v as Prisma.InputJsonValue));

/**
 * Store-then-send with a gap-free seq: the room's counter is incremented and the message inserted in
 * one transaction (the room row's lock, or SQLite's single writer, orders concurrent senders; a failed
 * insert rolls the increment back), and subscribers hear of it only after the commit. The same sender
 * and clientMsgId always get the original message back.
 */
export async function sendMessage(ctx: Context, roomId: string, input: unknown) {
  const senderId = requireUserId(ctx);
  const data = parseInput(messageSchemas(ctx).send, input);
  const clientMsgId = data.clientMsgId ?? null;
  const original = () =>
    db.roomMessage.findUnique({ where: { roomId_senderId_clientMsgId: { roomId, senderId, clientMsgId: clientMsgId! } } });
  if (clientMsgId) {
    const found = await original();
    if (found) return found;
  }
  let message;
  try {
    message = await db.$transaction(
      async (tx) => {
        const room = await tx.room.update({
          where: { id: roomId },
          data: { lastSeq: { increment: 1 }, lastActivityAt: new Date() },
          select: { lastSeq: true },
        });
        const m = await tx.roomMessage.create({
          data: { roomId, seq: room.lastSeq, senderId, content: data.content, meta: jsonValue(data.meta), clientMsgId },
        });
        await tx.roomMember.updateMany({ where: { roomId, userId: senderId, lastReadSeq: { lt: m.seq } }, data: { lastReadSeq: m.seq } });
        return m;
      },
      { maxWait: 15_000, timeout: 15_000 },
    );
  } catch (err) {
    const found = clientMsgId && isUniqueViolation(err) ? await original() : null;
    if (found) return found;
    throw err;
  }
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'MessageAdded', message: messageToJson(message) });
  return message;
}

async function loadOwnMessage(ctx: Context, messageId: string, allowAdmin: boolean) {
  const userId = requireUserId(ctx);
  const message = await db.roomMessage.findUnique({ where: { id: messageId } });
  if (!message) throw notFound('Message');
  if (message.senderId !== userId) {
    const access = allowAdmin ? await viewerRoomAccess(ctx, message.roomId) : null;
    if (access?.role !== 'ADMIN') throw forbidden('Only the sender can change this message');
  }
  return message;
}

/** The previous content goes to the edit history; a deleted message cannot be edited. */
export async function editMessage(ctx: Context, messageId: string, input: unknown) {
  const data = parseInput(messageSchemas(ctx).edit, input);
  const before = await loadOwnMessage(ctx, messageId, false);
  if (before.deletedAt) throw gone('This message was deleted');
  const message = await db.$transaction(async (tx) => {
    await tx.roomMessageEdit.create({ data: { messageId, content: before.content, meta: jsonValue(before.meta) } });
    return tx.roomMessage.update({
      where: { id: messageId },
      data: { content: data.content, ...(data.meta !== undefined ? { meta: jsonValue(data.meta) } : {}), editedAt: new Date() },
    });
  });
  ctx.app.pubsub.publish('room:event', message.roomId, { kind: 'MessageEdited', message: messageToJson(message) });
  return message;
}

/** Soft delete: the content (and its history) is gone, the seq stays so that sequences stay gap-free. */
export async function deleteMessage(ctx: Context, messageId: string) {
  const before = await loadOwnMessage(ctx, messageId, true);
  if (before.deletedAt) return before;
  const message = await db.$transaction(async (tx) => {
    await tx.roomMessageEdit.deleteMany({ where: { messageId } });
    await tx.roomReaction.deleteMany({ where: { messageId } });
    return tx.roomMessage.update({ where: { id: messageId }, data: { content: '', meta: Prisma.DbNull, deletedAt: new Date() } });
  });
  ctx.app.pubsub.publish('room:event', message.roomId, { kind: 'MessageDeleted', message: messageToJson(message) });
  return message;
}

export interface MessageWindow {
  afterSeq?: number | null;
  beforeSeq?: number | null;
  limit?: number | null;
}

/**
 * Messages in seq order: after `afterSeq` (oldest first), else before `beforeSeq`, else the latest.
 * `limit` is capped by config (rooms.maxMessagesPerPage).
 */
export async function listMessages(ctx: Context, roomId: string, w: MessageWindow) {
  const max = ctx.app.config.rooms.maxMessagesPerPage;
  const limit = Math.min(w.limit ?? 50, max);
  if (limit < 1) throw badInput('limit: must be at least 1', 'limit');
  const seq = { ...(w.afterSeq != null ? { gt: w.afterSeq } : {}), ...(w.beforeSeq != null ? { lt: w.beforeSeq } : {}) };
  const fromStart = w.afterSeq != null;
  const rows = await db.roomMessage.findMany({ where: { roomId, seq }, orderBy: { seq: fromStart ? 'asc' : 'desc' }, take: limit });
  return fromStart ? rows : rows.reverse();
}
