import type { Context } from '../../context.ts';
import { db, serializable } from '../../db/client.ts';
import { notFound, parseInput } from '../../errors.ts';
import type { RoomMute } from '../../generated/sqlite/client.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { actorRole, againOnUnique, moderatedRoom, outranks, rankError, restrictionInput } from './moderation.service.ts';

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

