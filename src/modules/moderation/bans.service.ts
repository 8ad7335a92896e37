import type { AppServices, Context } from '../../context.ts';
import { db, serializable, type Tx } from '../../db/client.ts';
import { notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import type { RoomBan } from '../../generated/sqlite/client.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import type { RoomRoleName } from '../rooms/rooms.topics.ts';
import { actorRole, againOnUnique, assertInOrg, moderatedRoom, outranks, rankError, restrictionInput } from './moderation.service.ts';

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

