import type { Context } from '../../context.ts';
import { db, TX_TIMING } from '../../db/client.ts';
import { badInput, gone, notFound } from '../../errors.ts';
import type { RoomMessage } from '../../generated/sqlite/client.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { requireUserId } from './rooms.access.ts';
import { lockRoom } from './rooms.lock.ts';
import { messageToJson } from './rooms.topics.ts';

/** The most messages a room keeps pinned at once. */
export const MAX_PINS_PER_ROOM = 50;

/**
 * Pins or unpins a message (who may is the permission rule's business: pins.permissions.ts). Idempotent: pinning a
 * pinned message (or unpinning one that is not) changes nothing, publishes nothing and writes no audit entry. The
 * limit holds when pins race: each pin counts the room's pins under the room's row lock (lockRoom).
 */
export async function setPinned(ctx: Context, messageId: string, pinned: boolean): Promise<RoomMessage> {
  const userId = requireUserId(ctx);
  const before = await db.roomMessage.findUnique({ where: { id: messageId }, include: { room: { select: { orgId: true } } } });
  if (!before) throw notFound('Message');
  if (before.deletedAt) throw gone('This message was deleted');
  if (!!before.pinnedAt === pinned) return before;
  const { roomId } = before;
  const changed = await db.$transaction(async (tx) => {
    await lockRoom(tx, roomId);
    if (pinned) {
      const count = await tx.roomMessage.count({ where: { roomId, pinnedAt: { not: null }, deletedAt: null } });
      if (count >= MAX_PINS_PER_ROOM) throw badInput(`messageId: a room keeps at most ${MAX_PINS_PER_ROOM} pinned messages: unpin one first`, 'messageId');
    }
    const data = pinned ? { pinnedAt: new Date(), pinnedById: userId } : { pinnedAt: null, pinnedById: null };
    const { count } = await tx.roomMessage.updateMany({ where: { id: messageId, deletedAt: null, pinnedAt: pinned ? null : { not: null } }, data });
    if (!count) return null;
    await recordAudit(tx, {
      orgId: before.room.orgId,
      actor: ctx.viewer,
      action: pinned ? 'room.message.pin' : 'room.message.unpin',
      targetType: 'RoomMessage',
      targetId: messageId,
      data: { roomId },
    });
    return tx.roomMessage.findUniqueOrThrow({ where: { id: messageId } });
  }, TX_TIMING);
  if (!changed) {
    // Someone else pinned (or unpinned, or deleted) it first: the message as it is now.
    const now = await db.roomMessage.findUniqueOrThrow({ where: { id: messageId } });
    if (now.deletedAt) throw gone('This message was deleted');
    return now;
  }
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'MessagePinChanged', message: messageToJson(changed) });
  return changed;
}
