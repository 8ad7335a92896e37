import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db, serializable } from '../../db/client.ts';
import { appError, badInput, forbidden, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { viewerRole } from '../../auth/rules.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import { hasBlocked } from '../users/blocks.service.ts';
import { archivedRefusal, ROOM_ROLE_RANK, requireUserId, viewerRoomAccess } from './rooms.access.ts';
import { bannedAmong, bannedError } from './rooms.bans.ts';

const name = z.string().trim().min(1, 'is required').max(100, 'must be at most 100 characters');
const topic = z.string().trim().max(500, 'must be at most 500 characters').nullish();
const memberIds = z.array(z.string()).max(500, 'may name at most 500 people');
const createRoomInput = z.object({ type: z.enum(['GROUP', 'CHANNEL']), name, topic, memberIds: memberIds.default([]) });
const updateRoomInput = z.object({ name: name.optional(), topic });

/** Refuses ids that are not members of the org (nobody is added to a room from outside). */
async function assertOrgMembers(orgId: string, userIds: string[]) {
  if (!userIds.length) return;
  const found = await db.membership.count({ where: { orgId, userId: { in: userIds } } });
  if (found !== userIds.length) throw badInput('memberIds: everyone added must be a member of the org', 'memberIds');
}

export async function createRoom(ctx: Context, orgId: string, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(createRoomInput, input);
  const others = [...new Set(data.memberIds)].filter((id) => id !== userId);
  await assertOrgMembers(orgId, others);
  const room = await db.room.create({
    data: {
      orgId,
      type: data.type,
      name: data.name,
      topic: data.topic ?? null,
      createdById: userId,
      members: { create: [{ userId, role: 'OWNER' }, ...others.map((id) => ({ userId: id }))] },
    },
  });
  await appendInbox(ctx.app, [userId, ...others].map((id) => ({ userId: id, kind: 'RoomAdded', payload: { roomId: room.id } })));
  return room;
}

/**
 * The DM between the viewer and `otherId` in this org, created on first call. A deterministic key
 * with a unique index makes it one room even when both people open it at the same moment.
 */
export async function openDirectRoom(ctx: Context, orgId: string, otherId: string) {
  const userId = requireUserId(ctx);
  if (otherId === userId) throw badInput('userId: a direct room needs another person', 'userId');
  if (!(await db.membership.count({ where: { orgId, userId: otherId } }))) throw notFound('User');
  if (await hasBlocked(otherId, userId)) throw appError('FORBIDDEN', 'You cannot message this person', { reason: 'BLOCKED' });
  const dmKey = `${orgId}:${[userId, otherId].sort().join(':')}`;
  const existing = await db.room.findUnique({ where: { dmKey } });
  if (existing) return existing;
  let room;
  try {
    room = await db.room.create({
      data: { orgId, type: 'DM', dmKey, createdById: userId, members: { create: [{ userId }, { userId: otherId }] } },
    });
  } catch (err) {
    if (isUniqueViolation(err)) return db.room.findUniqueOrThrow({ where: { dmKey } });
    throw err;
  }
  await appendInbox(ctx.app, [userId, otherId].map((id) => ({ userId: id, kind: 'DirectRoomCreated', payload: { roomId: room.id, byUserId: userId } })));
  return room;
}

/**
 * Any member may add people to a GROUP or CHANNEL; a DM stays between its two people. Nobody banned from the room
 * is added (FORBIDDEN, reason BANNED, and nobody else is added either): the ban is read in the transaction that adds
 * them, serializable, so a ban committed at the same moment either is seen or makes this transaction retry.
 */
export async function addRoomMembers(ctx: Context, roomId: string, userIds: string[]) {
  const ids = [...new Set(parseInput(memberIds.min(1, 'needs at least one person'), userIds))];
  const room = await db.room.findUniqueOrThrow({ where: { id: roomId } });
  if (room.type === 'DM') throw forbidden('People cannot be added to a direct room');
  await assertOrgMembers(room.orgId, ids);
  const added = await serializable(async (tx) => {
    if ((await bannedAmong(tx, roomId, ids)).length) throw bannedError('someone');
    const present = await tx.roomMember.findMany({ where: { roomId, userId: { in: ids } }, select: { userId: true } });
    const have = new Set(present.map((p) => p.userId));
    const fresh = ids.filter((id) => !have.has(id));
    for (const userId of fresh) await tx.roomMember.create({ data: { roomId, userId } });
    return fresh;
  });
  for (const userId of added) ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberJoined', userId, role: 'MEMBER' });
  await appendInbox(ctx.app, added.map((id) => ({ userId: id, kind: 'RoomAdded', payload: { roomId } })));
  return room;
}

/**
 * CHANNELs are open to every member of their org; other rooms look absent to non-members, and an API
 * key acting as a member finds none outside the key's org (viewerRole).
 */
export async function joinRoom(ctx: Context, roomId: string) {
  const userId = requireUserId(ctx);
  const room = await db.room.findUnique({ where: { id: roomId } });
  const inOrg = room && (await viewerRole(ctx, room.orgId));
  if (!room || !inOrg || room.type !== 'CHANNEL') throw notFound('Room');
  if (room.archivedAt) throw archivedRefusal();
  try {
    // With the ban check in one serializable transaction: a ban committed meanwhile is seen, or this one retries.
    await serializable(async (tx) => {
      if ((await bannedAmong(tx, roomId, [userId])).length) throw bannedError('you');
      await tx.roomMember.create({ data: { roomId, userId } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) return room;
    throw err;
  }
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberJoined', userId, role: 'MEMBER' });
  await appendInbox(ctx.app, [{ userId, kind: 'RoomAdded', payload: { roomId } }]);
  return room;
}

/**
 * Room ADMINs and OWNERs remove members ranked below them (FORBIDDEN otherwise, reason RANK); anyone may remove
 * themselves (that is leaving). Returns the removed membership's id.
 */
export async function removeRoomMember(ctx: Context, roomId: string, targetId: string): Promise<string> {
  const userId = requireUserId(ctx);
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) throw notFound('Room');
  if (access.type === 'DM') throw forbidden('Nobody can be removed from a direct room');
  const self = targetId === userId;
  if (!self && ROOM_ROLE_RANK[access.role] < ROOM_ROLE_RANK.ADMIN) throw forbidden('Requires the ADMIN role in this room');
  const member = await db.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: targetId } }, select: { id: true, role: true } });
  if (member && !self && ROOM_ROLE_RANK[member.role] >= ROOM_ROLE_RANK[access.role]) {
    throw appError('FORBIDDEN', 'You can only remove members ranked below you', { reason: 'RANK' });
  }
  // deleteMany by id: a concurrent removal of the same member finds nothing to delete (NOT_FOUND), never throws P2025.
  const count = member
    ? await db.$transaction(async (tx) => {
        const { count } = await tx.roomMember.deleteMany({ where: { id: member.id } });
        if (count && !self) {
          await recordAudit(tx, { orgId: access.orgId, actor: ctx.viewer, action: 'room.member.remove', targetType: 'User', targetId, data: { roomId, role: member.role } });
        }
        return count;
      })
    : 0;
  if (!member || !count) throw notFound('Member');
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberLeft', userId: targetId, reason: self ? 'LEFT' : 'REMOVED' });
  await appendInbox(ctx.app, [{ userId: targetId, kind: 'RoomRemoved', payload: { roomId } }]);
  return member.id;
}

export async function updateRoom(ctx: Context, roomId: string, input: unknown) {
  const data = parseInput(updateRoomInput, input);
  const access = await viewerRoomAccess(ctx, roomId);
  if (access?.type === 'DM') throw forbidden('A direct room has no name or topic');
  const room = await db.room.update({
    where: { id: roomId },
    data: { ...(data.name !== undefined ? { name: data.name } : {}), ...(data.topic !== undefined ? { topic: data.topic } : {}) },
  });
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'RoomUpdated', roomId });
  return room;
}

/** Moves the viewer's read marker forward only (a stale client cannot move it back). */
export async function markRead(ctx: Context, roomId: string, seq: number) {
  const userId = requireUserId(ctx);
  const room = await db.room.findUniqueOrThrow({ where: { id: roomId }, select: { lastSeq: true } });
  if (!Number.isInteger(seq) || seq < 0 || seq > room.lastSeq) throw badInput(`seq: must be between 0 and ${room.lastSeq}`, 'seq');
  const { count } = await db.roomMember.updateMany({ where: { roomId, userId, lastReadSeq: { lt: seq } }, data: { lastReadSeq: seq } });
  if (count) ctx.app.pubsub.publish('room:event', roomId, { kind: 'ReadReceipt', userId, seq });
  return db.roomMember.findUniqueOrThrow({ where: { roomId_userId: { roomId, userId } } });
}
