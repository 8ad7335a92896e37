import type { AppServices } from '../../context.ts';
import { db, type Tx } from '../../db/client.ts';
import type { Trust } from './trust.ts';

const POOL_ID = 'default';

const ready = new WeakMap<AppServices, Promise<void>>();

/**
 * Makes sure the pool row exists, starting with `[free_pool] sats`. A larger configured size later
 * adds the difference; the pool is never refilled otherwise. Done on first use rather than at start:
 * a query at start on SQLite makes a second in-process instance's migration time out (tests run two).
 */
export function ensurePool(app: AppServices): Promise<void> {
  let p = ready.get(app);
  if (!p) {
    p = createPool(app).catch((err) => {
      ready.delete(app);
      throw err;
    });
    ready.set(app, p);
  }
  return p;
}

async function createPool(app: AppServices) {
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

/** What the pool may absorb of one request of a user whose trust tier it serves ([trust] free_pool_tier). */
export async function poolShare(app: AppServices, trust: Trust) {
  const { sats, maxPerRequest } = app.config.freePool;
  if (!trust.freePool || !sats || !maxPerRequest) return 0;
  await ensurePool(app);
  return maxPerRequest;
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
