import { z } from 'zod';
import type { AppServices, Context } from '../../context.ts';
import { db, serializable, type Tx } from '../../db/client.ts';
import { appError, badInput, forbidden, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import type { RoomBan, RoomMute } from '../../generated/sqlite/client.ts';
import { requireUserId } from '../../auth/rules.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import { atLeast, mutedNow, ROOM_ROLE_RANK, viewerRoomAccess } from '../rooms/rooms.access.ts';
import type { RoomRoleName } from '../rooms/rooms.topics.ts';

const reason = z.string().trim().max(500, 'must be at most 500 characters').nullish();
const future = z
  .date()
  .nullish()
  .refine((d) => !d || d.getTime() > Date.now(), 'must be in the future');
const restrictionInput = z.object({ reason, expiresAt: future });
const ROLES = ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'] as const;

/** FORBIDDEN, reason RANK: moderation reaches only members ranked below the one who acts. */
export const rankError = (what: string) => appError('FORBIDDEN', `You can only ${what} members ranked below you`, { reason: 'RANK' });
const outranks = (actor: RoomRoleName, target: RoomRoleName) => ROOM_ROLE_RANK[actor] > ROOM_ROLE_RANK[target];

/** The room a moderation action is in, as the viewer sees it (the shield rule checked the role); not a direct room. */
async function moderatedRoom(ctx: Context, roomId: string) {
  const actorId = requireUserId(ctx);
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) throw notFound('Room');
  if (access.type === 'DM') throw forbidden('A direct room has no roles, bans, mutes or freezing');
  return { actorId, access };
}

/** The actor's role read again in the transaction that acts on it (a demotion committed meanwhile counts). */
async function actorRole(tx: Tx, roomId: string, actorId: string, min: RoomRoleName): Promise<RoomRoleName> {
  const row = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: actorId } }, select: { role: true } });
  if (!row) throw notFound('Room');
  if (!atLeast(row.role, min)) throw forbidden(`Requires the ${min} role in this room`);
  return row.role;
}

/** Everyone named by a moderation action is a member of the room's org (NOT_FOUND otherwise, like an unknown id). */
async function assertInOrg(orgId: string, userId: string) {
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
async function muteState(client: Tx | typeof db, roomId: string, userId: string) {
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

// ── Bans ──

/**
 * Bans someone from the room, in the caller's transaction: their membership (if any) goes and the ban is stored or
 * replaced. `mayBan` sees the member's role (null when not a member) and throws when the actor may not.
 */
export async function banInTx(
  tx: Tx,
  ctx: Context,
  ban: { orgId: string; roomId: string; userId: string; reason: string | null; expiresAt: Date | null },
  mayBan: (role: RoomRoleName | null) => void,
) {
  const { roomId, userId } = ban;
  const member = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { id: true, role: true } });
  mayBan(member?.role ?? null);
  if (member) await tx.roomMember.delete({ where: { id: member.id } });
  const byId = ctx.viewer.kind === 'user' ? ctx.viewer.userId : '';
  const fields = { reason: ban.reason, expiresAt: ban.expiresAt, createdById: byId, createdAt: new Date() };
  const existing = await tx.roomBan.findUnique({ where: { roomId_userId: { roomId, userId } }, select: { id: true } });
  const row = existing
    ? await tx.roomBan.update({ where: { id: existing.id }, data: fields })
    : await tx.roomBan.create({ data: { roomId, userId, ...fields } });
  await recordAudit(tx, {
    orgId: ban.orgId,
    actor: ctx.viewer,
    action: 'room.member.ban',
    targetType: 'User',
    targetId: userId,
    data: { roomId, banId: row.id, reason: ban.reason, expiresAt: ban.expiresAt?.toISOString() ?? null, removed: !!member },
  });
  return { ban: row, removed: !!member };
}

/** After a ban committed: the member's feeds of the room end (their own RoomMemberLeft), their inbox hears, webhooks hear. */
export async function afterBan(app: AppServices, orgId: string, { ban, removed }: Awaited<ReturnType<typeof banInTx>>) {
  if (removed) app.pubsub.publish('room:event', ban.roomId, { kind: 'MemberLeft', userId: ban.userId, reason: 'BANNED' });
  announceAccessChange(app.pubsub, { subjects: [`user:${ban.userId}`] });
  app.pubsub.publish('moderation:event', orgId, {
    kind: 'MemberBanned',
    roomId: ban.roomId,
    userId: ban.userId,
    banId: ban.id,
    reason: ban.reason,
    expiresAt: ban.expiresAt?.toISOString() ?? null,
    byUserId: ban.createdById || null,
    removed,
  });
  if (removed) await appendInbox(app, [{ userId: ban.userId, kind: 'RoomRemoved', payload: { roomId: ban.roomId } }]);
}

/** banRoomMember: ADMINs and OWNERs ban members of the org ranked below them (or not in the room). */
export async function banRoomMember(ctx: Context, roomId: string, targetId: string, input: unknown): Promise<RoomBan> {
  const data = parseInput(restrictionInput, input);
  const { actorId, access } = await moderatedRoom(ctx, roomId);
  if (targetId === actorId) throw rankError('ban');
  await assertInOrg(access.orgId, targetId);
  const done = await againOnUnique(() =>
    serializable(async (tx) => {
      const mine = await actorRole(tx, roomId, actorId, 'ADMIN');
      const ban = { orgId: access.orgId, roomId, userId: targetId, reason: data.reason ?? null, expiresAt: data.expiresAt ?? null };
      return banInTx(tx, ctx, ban, (role) => {
        if (role && !outranks(mine, role)) throw rankError('ban');
      });
    }),
  );
  await afterBan(ctx.app, access.orgId, done);
  return done.ban;
}

/** unbanRoomMember: lifts the stored ban (NOT_FOUND when there is none). Returns the lifted ban's id. */
export async function unbanRoomMember(ctx: Context, roomId: string, targetId: string): Promise<string> {
  const { actorId, access } = await moderatedRoom(ctx, roomId);
  const ban = await db.$transaction(async (tx) => {
    await actorRole(tx, roomId, actorId, 'ADMIN');
    const row = await tx.roomBan.findUnique({ where: { roomId_userId: { roomId, userId: targetId } } });
    // deleteMany: of two lifts at once, one finds nothing (NOT_FOUND) instead of failing.
    const { count } = row ? await tx.roomBan.deleteMany({ where: { id: row.id } }) : { count: 0 };
    if (!row || !count) throw notFound('Ban');
    await recordAudit(tx, { orgId: access.orgId, actor: ctx.viewer, action: 'room.member.unban', targetType: 'User', targetId, data: { roomId, banId: row.id } });
    return row;
  });
  ctx.app.pubsub.publish('moderation:event', access.orgId, { kind: 'MemberUnbanned', roomId, userId: targetId, banId: ban.id, byUserId: actorId });
  return ban.id;
}

// ── Mutes ──

/** muteRoomMember: MODERATORs and above mute members ranked below them; a second mute replaces the first. */
export async function muteRoomMember(ctx: Context, roomId: string, targetId: string, input: unknown): Promise<RoomMute> {
  const data = parseInput(restrictionInput, input);
  const { actorId, access } = await moderatedRoom(ctx, roomId);
  if (targetId === actorId) throw rankError('mute');
  const { mute, role } = await againOnUnique(() =>
    serializable(async (tx) => {
      const mine = await actorRole(tx, roomId, actorId, 'MODERATOR');
      const target = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: targetId } }, select: { role: true } });
      if (!target) throw notFound('Member');
      if (!outranks(mine, target.role)) throw rankError('mute');
      const fields = { reason: data.reason ?? null, expiresAt: data.expiresAt ?? null, createdById: actorId, createdAt: new Date() };
      const existing = await tx.roomMute.findUnique({ where: { roomId_userId: { roomId, userId: targetId } }, select: { id: true } });
      const mute = existing
        ? await tx.roomMute.update({ where: { id: existing.id }, data: fields })
        : await tx.roomMute.create({ data: { roomId, userId: targetId, ...fields } });
      await recordAudit(tx, {
        orgId: access.orgId,
        actor: ctx.viewer,
        action: 'room.member.mute',
        targetType: 'User',
        targetId,
        data: { roomId, muteId: mute.id, reason: mute.reason, expiresAt: mute.expiresAt?.toISOString() ?? null },
      });
      return { mute, role: target.role };
    }),
  );
  ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberUpdated', userId: targetId, role, muted: true, muteExpiresAt: mute.expiresAt?.toISOString() ?? null });
  return mute;
}

/** unmuteRoomMember: lifts the mute (NOT_FOUND when there is none); the member must still rank below the actor. */
export async function unmuteRoomMember(ctx: Context, roomId: string, targetId: string): Promise<string> {
  const { actorId, access } = await moderatedRoom(ctx, roomId);
  const { mute, role } = await db.$transaction(async (tx) => {
    const mine = await actorRole(tx, roomId, actorId, 'MODERATOR');
    const target = await tx.roomMember.findUnique({ where: { roomId_userId: { roomId, userId: targetId } }, select: { role: true } });
    if (target && !outranks(mine, target.role)) throw rankError('unmute');
    const mute = await tx.roomMute.findUnique({ where: { roomId_userId: { roomId, userId: targetId } } });
    const { count } = mute ? await tx.roomMute.deleteMany({ where: { id: mute.id } }) : { count: 0 };
    if (!mute || !count) throw notFound('Mute');
    await recordAudit(tx, { orgId: access.orgId, actor: ctx.viewer, action: 'room.member.unmute', targetType: 'User', targetId, data: { roomId, muteId: mute.id } });
    return { mute, role: target?.role ?? null };
  });
  if (role) ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberUpdated', userId: targetId, role, muted: false, muteExpiresAt: null });
  return mute.id;
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
