import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db, Prisma } from '../../db/client.ts';
import { forbidden, gone, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { requireUserId, viewerRoomAccess } from './rooms.access.ts';
import type { RoomMessage } from '../../generated/sqlite/client.ts';
import { commitMessage, jsonValue } from './messages.commit.ts';
import { messageToJson } from './rooms.topics.ts';
import { idOf } from '../../auth/rules.ts';
import { prepareAttachments, removeRoomMessageAttachments } from '../attachments/attachments.service.ts';
import { pushDirectMessage } from '../push/push.service.ts';

/** JSON that fits in `maxBytes` once serialized. */
export function jsonWithin(maxBytes: number) {
  return z.unknown().superRefine((value, issue) => {
    const size = Buffer.byteLength(JSON.stringify(value ?? null));
    if (size > maxBytes) issue.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON (got ${size})` });
  });
}

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
export async function sendMessage(ctx: Context, roomId: string, input: unknown): Promise<RoomMessage> {
  const senderId = requireUserId(ctx);
  const data = parseInput(messageSchemas(ctx).send, input);
  const clientMsgId = data.clientMsgId ?? null;
  const original = () =>
    db.roomMessage.findUnique({ where: { roomId_senderId_clientMsgId: { roomId, senderId, clientMsgId: clientMsgId! } } });
  const publish = (m: RoomMessage) => {
    try {
      const message = messageToJson(m);
      if (attachmentIds) message.attachmentIds = attachmentIds;
      ctx.app.pubsub.publish('room:event', roomId, { kind: 'MessageAdded', message });
      // Web Push for DMs; the access rule already read the room (cached for this operation).
      void viewerRoomAccess(ctx, roomId).then((a) => a?.type === 'DM' && pushDirectMessage(ctx.app, a.orgId, m), () => undefined);
    } catch (err) {
      ctx.log.error({ err, roomId, seq: m.seq }, 'publishing MessageAdded failed');
      throw err;
    }
  };
  // Attachments: checked here, attached in the send's own transaction (messages.commit.ts); none, no extra statement.
  const attachmentIds = await roomAttachments(ctx, roomId, senderId, input);
  const commit = () =>
    commitMessage({ roomId, senderId, content: data.content, meta: data.metadata, clientMsgId, viaApiKeyId: viaKeyOf(ctx), attachmentIds }, publish);
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
      data: { content: data.content, ...(data.metadata !== undefined ? { meta: jsonValue(data.metadata) } : {}), editedAt: new Date() },
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
  await removeRoomMessageAttachments(ctx.app, messageId);
  return message;
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
