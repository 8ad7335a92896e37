import { TRUST_TIERS, type Config, type TrustTierName } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';

export interface Trust {
  userId: string;
  score: number;
  tier: TrustTierName;
  /** The free-tier pool serves this user's prepaid sessions. */
  freePool: boolean;
  /** This user's prepaid requests are screened (when screening is on). */
  screened: boolean;
}

const DAY_MS = 24 * 3600 * 1000;

/** The stored score decayed to `now`: it halves every `half_life_days` (no job rewrites it). */
export function decayed(config: Config, score: number, since: Date, now: Date) {
  const days = Math.max(0, now.getTime() - since.getTime()) / DAY_MS;
  return score * 0.5 ** (days / config.trust.halfLifeDays);
}

export function tierOf(config: Config, score: number): TrustTierName {
  const { establishedScore, trustedScore, eliteScore } = config.trust;
  return score >= eliteScore ? 'ELITE' : score >= trustedScore ? 'TRUSTED' : score >= establishedScore ? 'ESTABLISHED' : 'NEW';
}

const atLeast = (tier: TrustTierName, least: TrustTierName | 'NONE') => least !== 'NONE' && TRUST_TIERS.indexOf(tier) >= TRUST_TIERS.indexOf(least);

function trustFrom(config: Config, userId: string, score: number): Trust {
  const tier = tierOf(config, score);
  return {
    userId,
    score,
    tier,
    freePool: atLeast(tier, config.trust.freePoolTier),
    screened: !atLeast(tier, config.trust.unscreenedTier),
  };
}

/** A user's trust now; someone who never paid for a request is NEW with 0. */
export async function trustOf(app: AppServices, userId: string): Promise<Trust> {
  const row = await db.userTrust.findUnique({ where: { userId } });
  return trustFrom(app.config, userId, row ? decayed(app.config, row.score, row.updatedAt, app.clock()) : 0);
}

/** What an anonymous session (no account, so no trust) gets: never the pool, always screened. */
export const UNTRUSTED = (config: Config): Trust => ({ ...trustFrom(config, '', 0), freePool: false, screened: true });

/**
 * Adds a completed, charged request's points, once its settling transaction has committed (that
 * transaction claims the request once, so it counts once). The stored score is first decayed to now; a
 * compare-and-set on the row keeps concurrent requests from overwriting each other's points.
 */
export async function recordPaidRequest(app: AppServices, userId: string) {
  const now = app.clock();
  const points = app.config.trust.pointsPerRequest;
  for (;;) {
    const row = await db.userTrust.findUnique({ where: { userId } });
    if (!row) {
      const made = await db.userTrust.createMany({ data: [{ userId, score: points, updatedAt: now }] }).catch(() => ({ count: 0 }));
      if (made.count) return;
      continue;
    }
    const score = decayed(app.config, row.score, row.updatedAt, now) + points;
    const done = await db.userTrust.updateMany({
      where: { userId, score: row.score, updatedAt: row.updatedAt },
      data: { score, updatedAt: now > row.updatedAt ? now : row.updatedAt },
    });
    if (done.count) return;
  }
}
