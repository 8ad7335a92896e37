import type { AppServices } from '../../context.ts';
import { db, type Tx } from '../../db.ts';

const POOL_ID = 'default';

/**
 * Makes sure the pool row exists, starting with `[free_pool] sats`. A larger configured size later
 * adds the difference; the pool is never refilled otherwise.
 */
export async function ensurePool(app: AppServices) {
  const { sats } = app.config.freePool;
  const pool = await db.freePool.findUnique({ where: { id: POOL_ID } });
  if (!pool) {
    await db.freePool.create({ data: { id: POOL_ID, capacitySats: sats, remainingSats: sats } }).catch(() => {});
  } else if (sats > pool.capacitySats) {
    await db.freePool.updateMany({
      where: { id: POOL_ID, capacitySats: pool.capacitySats },
      data: { capacitySats: sats, remainingSats: { increment: sats - pool.capacitySats } },
    });
  }
}

/** Whether the pool serves this session: its owner is listed (by id or email) in `[free_pool] trusted_users`. */
export async function isTrusted(app: AppServices, ownerId: string | null) {
  const { sats, trustedUsers } = app.config.freePool;
  if (!ownerId || !sats || !trustedUsers.length) return false;
  if (trustedUsers.includes(ownerId)) return true;
  const user = await db.user.findUnique({ where: { id: ownerId }, select: { email: true } });
  return !!user && trustedUsers.map((u) => u.toLowerCase()).includes(user.email);
}

/**
 * Takes up to `want` sats from the pool before the work, with a compare-and-set on the remaining
 * amount, so concurrent reservations can never take more than the pool holds.
 */
export async function reservePool(tx: Tx, want: number): Promise<number> {
  for (;;) {
    const pool = await tx.freePool.findUnique({ where: { id: POOL_ID } });
    const take = Math.min(want, pool?.remainingSats ?? 0);
    if (take <= 0) return 0;
    const done = await tx.freePool.updateMany({ where: { id: POOL_ID, remainingSats: pool!.remainingSats }, data: { remainingSats: { decrement: take } } });
    if (done.count) return take;
  }
}

/** Gives back the part of a reservation the request did not use. */
export async function releasePool(tx: Tx, sats: number) {
  if (sats > 0) await tx.freePool.update({ where: { id: POOL_ID }, data: { remainingSats: { increment: sats } } });
}
