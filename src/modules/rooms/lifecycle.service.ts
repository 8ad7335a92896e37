import type { Context } from '../../context.ts';
import { db, TX_TIMING } from '../../db/client.ts';
import { forbidden, notFound } from '../../errors.ts';
import type { Room } from '../../generated/sqlite/client.ts';
import { removeAttachments } from '../attachments/attachments.service.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import { lockRoom } from './rooms.lock.ts';

/**
 * Archives or unarchives a group or channel (direct rooms cannot be: FORBIDDEN). Idempotent: archiving an archived
 * room changes nothing, publishes nothing and writes no audit entry. An archived room is read-only for everyone
 * (rooms.access.ts: writeRefusal) and leaves its members' room lists and inboxes: each member's inbox hears
 * RoomRemoved when it is archived and RoomAdded when it comes back.
 */
export async function setArchived(ctx: Context, roomId: string, archived: boolean): Promise<Room> {
  const room = await db.room.findUnique({ where: { id: roomId } });
  if (!room) throw notFound('Room');
  if (room.type === 'DM') throw forbidden('A direct room cannot be archived');
  const done = await db.$transaction(async (tx) => {
    const { count } = await tx.room.updateMany({
      where: { id: roomId, archivedAt: archived ? null : { not: null } },
      data: { archivedAt: archived ? new Date() : null },
    });
    if (!count) return null;
    await recordAudit(tx, { orgId: room.orgId, actor: ctx.viewer, action: archived ? 'room.archive' : 'room.unarchive', targetType: 'Room', targetId: roomId });
    const members = await tx.roomMember.findMany({ where: { roomId }, select: { userId: true } });
    return { room: await tx.room.findUniqueOrThrow({ where: { id: roomId } }), members: members.map((m) => m.userId) };
  }, TX_TIMING);
  if (!done) return db.room.findUniqueOrThrow({ where: { id: roomId } });
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'RoomUpdated', roomId, change: archived ? 'ARCHIVED' : 'UNARCHIVED' });
  await appendInbox(ctx.app, done.members.map((userId) => ({ userId, kind: archived ? 'RoomRemoved' : 'RoomAdded', payload: { roomId } })));
  return done.room;
}

/**
 * Deletes a room and everything in it (members, messages, reactions, pins, bans, mutes, reports: the database
 * cascades), then the stored bytes of its attachments. Its subscribers get RoomDeleted, the last event of their
 * feeds; each member's inbox hears RoomRemoved. The audit entry keeps the room's name, type and counts. A room
 * deleted twice at once is deleted once: the second finds nothing (NOT_FOUND).
 */
export async function deleteRoom(ctx: Context, roomId: string): Promise<void> {
  const done = await db.$transaction(async (tx) => {
    // Locked first, so that the members and counts read below are those deleted.
    if (!(await lockRoom(tx, roomId))) return null;
    const room = await tx.room.findUniqueOrThrow({ where: { id: roomId } });
    const members = await tx.roomMember.findMany({ where: { roomId }, select: { userId: true } });
    const messageCount = await tx.roomMessage.count({ where: { roomId } });
    const attachments = await tx.attachment.findMany({ where: { roomMessage: { roomId } }, select: { id: true } });
    const { count } = await tx.room.deleteMany({ where: { id: roomId } });
    if (!count) return null;
    await recordAudit(tx, {
      orgId: room.orgId,
      actor: ctx.viewer,
      action: 'room.delete',
      targetType: 'Room',
      targetId: roomId,
      data: { name: room.name, type: room.type, memberCount: members.length, messageCount },
    });
    return { orgId: room.orgId, members: members.map((m) => m.userId), attachmentIds: attachments.map((a) => a.id) };
  }, TX_TIMING);
  if (!done) throw notFound('Room');
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'RoomDeleted', roomId, orgId: done.orgId });
  await appendInbox(ctx.app, done.members.map((userId) => ({ userId, kind: 'RoomRemoved', payload: { roomId } })));
  // Their message is gone (the link was set to null by the delete): only these rows and their bytes go.
  if (done.attachmentIds.length) await removeAttachments(ctx.app, { id: { in: done.attachmentIds }, roomMessageId: null });
}
