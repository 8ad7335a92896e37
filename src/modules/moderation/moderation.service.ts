import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db, serializable, type Tx } from '../../db/client.ts';
import { appError, badInput, forbidden, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { requireUserId } from '../../auth/rules.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { atLeast, mutedNow, ROOM_ROLE_RANK, viewerRoomAccess } from '../rooms/rooms.access.ts';
import type { RoomRoleName } from '../rooms/rooms.topics.ts';

const reason = z.string().trim().max(500, 'must be at most 500 characters').nullish();
const future = z
  .date()
  .nullish()
  .refine((d) => !d || d.getTime() > Date.now(), 'must be in the future');
/** A ban's or mute's reason and expiry. */
export const restrictionInput = z.object({ reason, expiresAt: future });
const ROLES = ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'] as const;

/** FORBIDDEN, reason RANK: moderation reaches only members ranked below the one who acts. */
export const rankError = (what: string) => appError('FORBIDDEN', `You can only ${what} members ranked below you`, { reason: 'RANK' });
export const outranks = (actor: RoomRoleName, target: RoomRoleName) => ROOM_ROLE_RANK[actor] > ROOM_ROLE_RANK[target];

/** The room a moderation action is in, as the viewer sees it (the shield rule checked the role); not a direct room. */
export async function moderatedRoom(ctx: Context, roomId: string) {
  const actorId = requireUserId(ctx);
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) throw notFound('Room');
  if (access.type === 'DM') throw forbidden('A direct room has no roles, bans, mutes or freezing');
  return { actorId, access };
}

/** The actor's role read again in the transaction that acts on it (a demotion committed meanwhile counts). */
export async function actorRole(tx: Tx, roomId: string, actorId: string, min: RoomRoleName): Promise<RoomRoleName> {
  const row = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: actorId } }, select: { role: true } });
  if (!row) throw notFound('Room');
  if (!atLeast(row.role, min)) throw forbidden(`Requires the ${min} role in this room`);
  return row.role;
}

/** Everyone named by a moderation action is a member of the room's org (NOT_FOUND otherwise, like an unknown id). */
export async function assertInOrg(orgId: string, userId: string) {
  if (!(await db.membership.count({ where: { orgId, userId } }))) throw notFound('User');
}

/** Runs a transaction once more when a concurrent one created the same unique row first (then it updates it). */
export async function againOnUnique<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) return fn();
    throw err;
  }
}

/** A member's mute state as MemberUpdated carries it. */
export async function muteState(client: Tx | typeof db, roomId: string, userId: string) {
  const mute = await client.roomMute.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { expiresAt: true } });
  const muted = mutedNow(mute);
  return { muted, muteExpiresAt: muted ? (mute?.expiresAt?.toISOString() ?? null) : null };
}

// ── Roles ──

/**
 * Sets a member's role. The actor (ADMIN or OWNER) must outrank the member's current role and the new role must be
 * below theirs; the OWNER naming someone OWNER hands the room over (they become ADMIN), in one transaction.
 * Nobody changes their own role (an OWNER hands the room over instead).
 */
export async function setRoomMemberRole(ctx: Context, roomId: string, targetId: string, rawRole: unknown) {
  const role = parseInput(z.enum(ROLES), rawRole);
  const { actorId, access } = await moderatedRoom(ctx, roomId);
  if (targetId === actorId) throw forbidden('You cannot change your own role (an OWNER hands the room over by making someone else OWNER)');
  const changed = await serializable(async (tx) => {
    const mine = await actorRole(tx, roomId, actorId, 'ADMIN');
    const target = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: targetId } } });
    if (!target) throw notFound('Member');
    if (!outranks(mine, target.role)) throw rankError('change the role of');
    const transfer = role === 'OWNER' && mine === 'OWNER';
    if (!transfer && !outranks(mine, role)) throw appError('FORBIDDEN', 'The new role must be below yours', { reason: 'RANK' });
    const out: { userId: string; from: RoomRoleName; to: RoomRoleName }[] = [];
    if (target.role !== role) {
      await tx.roomMember.update({ where: { id: target.id }, data: { role } });
      out.push({ userId: targetId, from: target.role, to: role });
    }
    if (transfer) {
      await tx.roomMember.update({ where: { roomId_userId: { roomId, userId: actorId } }, data: { role: 'ADMIN' } });
      out.push({ userId: actorId, from: 'OWNER', to: 'ADMIN' });
    }
    for (const c of out) {
      await recordAudit(tx, { orgId: access.orgId, actor: ctx.viewer, action: 'room.member.role', targetType: 'User', targetId: c.userId, data: { roomId, from: c.from, to: c.to, transfer } });
    }
    return out;
  });
  for (const c of changed) {
    ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberUpdated', userId: c.userId, role: c.to, ...(await muteState(db, roomId, c.userId)) });
  }
  return db.roomMember.findUniqueOrThrow({ where: { roomId_userId: { roomId, userId: targetId } } });
}

// ── Frozen rooms ──

/** setRoomFrozen: ADMINs and OWNERs make the room read-only below MODERATOR, or writable again. Setting what is already set changes nothing. */
export async function setRoomFrozen(ctx: Context, roomId: string, frozen: boolean) {
  if (typeof frozen !== 'boolean') throw badInput('frozen: must be true or false', 'frozen');
  const { access } = await moderatedRoom(ctx, roomId);
  const changed = await db.$transaction(async (tx) => {
    const { count } = await tx.room.updateMany({ where: { id: roomId, frozen: !frozen }, data: { frozen } });
    if (count) await recordAudit(tx, { orgId: access.orgId, actor: ctx.viewer, action: frozen ? 'room.freeze' : 'room.unfreeze', targetType: 'Room', targetId: roomId });
    return count > 0;
  });
  if (changed) ctx.app.pubsub.publish('room:event', roomId, { kind: 'RoomUpdated', roomId, change: frozen ? 'FROZEN' : 'UNFROZEN' });
  return db.room.findUniqueOrThrow({ where: { id: roomId } });
}
