import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db, serializable } from '../../db/client.ts';
import type { Report } from '../../generated/sqlite/client.ts';
import { appError, badInput, conflict, gone, isUniqueViolation, notFound, parseInput, rateLimited } from '../../errors.ts';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { requireUserId, viewerRole, type OrgRoleName } from '../../auth/rules.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { createNotifications } from '../notifications/notifications.service.ts';
import { afterMessageDeleted, deleteMessageRows, type DeletedMessage } from '../rooms/messages.service.ts';
import { afterBan, banInTx } from './bans.service.ts';
import { againOnUnique } from './moderation.service.ts';
import type { ReportActionName } from './moderation.topics.ts';

/** Reports one person may file a minute (a flood of reports is a way to bother the admins). */
export const REPORTS_PER_MINUTE = 20;

const reportInput = z.object({ reason: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters') });
const resolveInput = z.object({
  action: z.enum(['DISMISS', 'DELETE_MESSAGE', 'BAN_AUTHOR']),
  note: z.string().trim().max(1000, 'must be at most 1000 characters').nullish(),
  banExpiresAt: z
    .date()
    .nullish()
    .refine((d) => !d || d.getTime() > Date.now(), 'must be in the future'),
});

const STATUS_OF: Record<ReportActionName, 'DISMISSED' | 'MESSAGE_DELETED' | 'USER_BANNED'> = { DISMISS: 'DISMISSED', DELETE_MESSAGE: 'MESSAGE_DELETED', BAN_AUTHOR: 'USER_BANNED' };
const ORG_RANK: Record<OrgRoleName, number> = { MEMBER: 1, ADMIN: 2, OWNER: 3 };

/**
 * reportMessage: a member who can read a message puts it in the org admins' queue. Not their own (BAD_USER_INPUT),
 * not a deleted one (GONE). Reporting the same message again answers the first report. The admins are notified
 * (topic `report`) and webhooks hear MESSAGE_REPORTED.
 */
export async function reportMessage(ctx: Context, messageId: string, input: unknown): Promise<Report> {
  const reporterId = requireUserId(ctx);
  const { reason } = parseInput(reportInput, input);
  const message = await db.roomMessage.findUnique({ where: { id: messageId }, include: { room: { select: { orgId: true } } } });
  if (!message) throw notFound('Message');
  if (message.senderId === reporterId) throw badInput('messageId: you cannot report your own message', 'messageId');
  const existing = () => db.report.findUnique({ where: { messageId_reporterId: { messageId, reporterId } } });
  const first = await existing();
  if (first) return first;
  if (message.deletedAt) throw gone('This message was deleted');
  const hit = await ctx.app.limiter.hit(`report:${reporterId}`, REPORTS_PER_MINUTE, 60);
  if (!hit.allowed) throw rateLimited(`At most ${REPORTS_PER_MINUTE} reports a minute; try again in ${hit.retryAfterSec} s`, hit.retryAfterSec);
  const orgId = message.room.orgId;
  let report: Report;
  try {
    report = await db.$transaction(async (tx) => {
      const row = await tx.report.create({
        data: { orgId, roomId: message.roomId, messageId, reporterId, authorId: message.senderId, content: message.content, reason },
      });
      await recordAudit(tx, { orgId, actor: ctx.viewer, action: 'report.create', targetType: 'Report', targetId: row.id, data: { roomId: message.roomId, messageId } });
      return row;
    });
  } catch (err) {
    // The same person reporting twice at once: one report, the first.
    const again = isUniqueViolation(err) ? await existing() : null;
    if (again) return again;
    throw err;
  }
  const admins = await db.membership.findMany({ where: { orgId, role: { in: ['OWNER', 'ADMIN'] }, userId: { not: reporterId } }, select: { userId: true } });
  const payload = { reportId: encodeGlobalID('Report', report.id), roomId: encodeGlobalID('Room', report.roomId), messageId: encodeGlobalID('RoomMessage', messageId) };
  // The report stands even if notifying fails (the queue, Org.reports, has it).
  await createNotifications(ctx.app, orgId, admins.map((a) => a.userId), 'report', payload).catch((err: unknown) => ctx.log.error({ err }, 'notifying admins of a report failed'));
  ctx.app.pubsub.publish('moderation:event', orgId, {
    kind: 'MessageReported',
    reportId: report.id,
    roomId: report.roomId,
    messageId,
    authorId: report.authorId,
    reporterId,
    reason,
    createdAt: report.createdAt.toISOString(),
  });
  return report;
}

/**
 * resolveReport: an OWNER or ADMIN of the org (room membership not needed) resolves an OPEN report, and with it every
 * other OPEN report of the same message, the same way. Only one resolution wins (CONFLICT for the others): the
 * claim is a conditional update in the transaction that also deletes the message or bans its author, so either all
 * of it happens or none. BAN_AUTHOR bans the author from the room and deletes the message too; an author who ranks
 * as high in the org as the resolver (an ADMIN, for an ADMIN) cannot be banned this way (FORBIDDEN, reason RANK).
 */
export async function resolveReport(ctx: Context, reportId: string, input: unknown): Promise<Report> {
  const resolverId = requireUserId(ctx);
  const data = parseInput(resolveInput, input);
  if (data.banExpiresAt && data.action !== 'BAN_AUTHOR') throw badInput('banExpiresAt: only with the BAN_AUTHOR action', 'banExpiresAt');
  const report = await db.report.findUnique({ where: { id: reportId } });
  if (!report) throw notFound('Report');
  const status = STATUS_OF[data.action];
  const note = data.note || null;
  if (data.action === 'BAN_AUTHOR') {
    const [mine, theirs] = await Promise.all([
      viewerRole(ctx, report.orgId),
      db.membership.findUnique({ where: { orgId_userId: { orgId: report.orgId, userId: report.authorId } }, select: { role: true } }),
    ]);
    const authorRole = (theirs?.role ?? null) as OrgRoleName | null;
    if (report.authorId === resolverId || (authorRole && authorRole !== 'MEMBER' && !(mine && ORG_RANK[mine] > ORG_RANK[authorRole]))) {
      throw appError('FORBIDDEN', 'The author ranks as high in the org as you: they cannot be banned this way', { reason: 'RANK' });
    }
  }
  const done = await againOnUnique(() => serializable(async (tx) => {
    const resolvedAt = new Date();
    const resolution = { status, resolvedById: resolverId, resolvedAt, note };
    const claimed = await tx.report.updateMany({ where: { id: reportId, status: 'OPEN' }, data: resolution });
    if (!claimed.count) {
      const now = await tx.report.findUnique({ where: { id: reportId }, select: { status: true } });
      throw conflict('This report was resolved already', { status: now?.status ?? null });
    }
    const others = report.messageId
      ? await tx.report.findMany({ where: { messageId: report.messageId, status: 'OPEN', id: { not: reportId } }, select: { id: true } })
      : [];
    if (others.length) await tx.report.updateMany({ where: { id: { in: others.map((o) => o.id) }, status: 'OPEN' }, data: resolution });
    const reportIds = [reportId, ...others.map((o) => o.id)];
    await recordAudit(tx, { orgId: report.orgId, actor: ctx.viewer, action: 'report.resolve', targetType: 'Report', targetId: reportId, data: { action: data.action, status, note, reportIds } });
    let deleted: DeletedMessage | null = null;
    if (data.action !== 'DISMISS' && report.messageId) {
      deleted = await deleteMessageRows(tx, report.messageId);
      if (deleted) {
        await recordAudit(tx, { orgId: report.orgId, actor: ctx.viewer, action: 'room.message.delete', targetType: 'RoomMessage', targetId: report.messageId, data: { roomId: report.roomId, authorId: report.authorId, reportId } });
      }
    }
    const banned =
      data.action === 'BAN_AUTHOR'
        ? await banInTx(tx, ctx, { orgId: report.orgId, roomId: report.roomId, userId: report.authorId, reason: note ?? report.reason, expiresAt: data.banExpiresAt ?? null }, () => {})
        : null;
    return { reportIds, resolvedAt, deleted, banned };
  }));
  if (done.deleted) await afterMessageDeleted(ctx.app, done.deleted);
  if (done.banned) await afterBan(ctx.app, report.orgId, done.banned);
  ctx.app.pubsub.publish('moderation:event', report.orgId, {
    kind: 'ReportResolved',
    reportId,
    reportIds: done.reportIds,
    roomId: report.roomId,
    messageId: report.messageId,
    action: data.action,
    status,
    resolvedById: resolverId,
    note,
    resolvedAt: done.resolvedAt.toISOString(),
  });
  return db.report.findUniqueOrThrow({ where: { id: reportId } });
}
