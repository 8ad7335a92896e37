import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, isUniqueViolation, notFound } from '../../errors.ts';
import { requireUserId } from '../../auth/rules.ts';
import { canSeeUser } from './users.service.ts';

/**
 * Blocks (or unblocks) a user the viewer can see (shares an org with; NOT_FOUND otherwise, as for anyone unknown),
 * never themselves (BAD_USER_INPUT). Idempotent. A block holds across orgs: the blocked user cannot open a direct
 * room with the blocker nor write in one they share (rooms.access.ts: dmBlocked), and the blocker sees their
 * messages marked `hiddenForViewer`. Someone blocked may be unblocked when no longer visible (the block is the
 * viewer's own); otherwise, an invisible user is NOT_FOUND either way, so user ids cannot be probed.
 */
export async function setBlocked(ctx: Context, userId: string, blocked: boolean): Promise<void> {
  const viewerId = requireUserId(ctx);
  if (userId === viewerId) throw badInput('userId: you cannot block yourself', 'userId');
  if (!blocked) {
    const { count } = await db.userBlock.deleteMany({ where: { blockerId: viewerId, blockedId: userId } });
    if (count || (await canSeeUser(viewerId, userId))) return;
    throw notFound('User');
  }
  if (!(await canSeeUser(viewerId, userId))) throw notFound('User');
  try {
    await db.userBlock.create({ data: { blockerId: viewerId, blockedId: userId } });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
}

/** Has `blockerId` blocked `blockedId`? */
export async function hasBlocked(blockerId: string, blockedId: string): Promise<boolean> {
  return (await db.userBlock.count({ where: { blockerId, blockedId } })) > 0;
}

/** Whether the viewer blocked each of these users: one query per operation (or per live event) however many. */
export function viewerBlocks(ctx: Context, userId: string): Promise<boolean> {
  const viewer = ctx.viewer;
  if (viewer.kind !== 'user') return Promise.resolve(false);
  return ctx
    .loader<string, boolean>('viewerBlocks', async (ids) => {
      const rows = await db.userBlock.findMany({ where: { blockerId: viewer.userId, blockedId: { in: [...ids] } }, select: { blockedId: true } });
      const blocked = new Set(rows.map((r) => r.blockedId));
      return ids.map((id) => blocked.has(id));
    })
    .load(userId);
}
