import { TRUST_TIERS, type Config, type TrustTierName } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';

/** Whose trust: a user's (UserTrust), or a Nostr key's for an anonymous session bound to one (NostrIdentity). */
export type TrustHolder = { userId: string } | { pubkey: string };

export interface Trust {
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

function trustFrom(config: Config, score: number): Trust {
  const tier = tierOf(config, score);
  return {
    score,
    tier,
    freePool: atLeast(tier, config.trust.freePoolTier),
    screened: !atLeast(tier, config.trust.unscreenedTier),
  };
}

/** The stored score of a holder, and the compare-and-set that adds to it (its table: UserTrust or NostrIdentity). */
const store = (holder: TrustHolder) =>
  'userId' in holder
    ? {
        read: () => db.userTrust.findUnique({ where: { userId: holder.userId } }),
        create: (score: number, updatedAt: Date) => db.userTrust.createMany({ data: [{ userId: holder.userId, score, updatedAt }] }),
        swap: (from: { score: number; updatedAt: Date }, score: number, updatedAt: Date) =>
          db.userTrust.updateMany({ where: { userId: holder.userId, score: from.score, updatedAt: from.updatedAt }, data: { score, updatedAt } }),
      }
    : {
        read: () => db.nostrIdentity.findUnique({ where: { pubkey: holder.pubkey } }),
        create: (score: number, updatedAt: Date) => db.nostrIdentity.createMany({ data: [{ pubkey: holder.pubkey, score, updatedAt }] }),
        swap: (from: { score: number; updatedAt: Date }, score: number, updatedAt: Date) =>
          db.nostrIdentity.updateMany({ where: { pubkey: holder.pubkey, score: from.score, updatedAt: from.updatedAt }, data: { score, updatedAt } }),
      };

/** A holder's trust now, from its stored row (absent: NEW with 0). */
export const trustFromRow = (app: AppServices, row: { score: number; updatedAt: Date } | null | undefined): Trust =>
  trustFrom(app.config, row ? decayed(app.config, row.score, row.updatedAt, app.clock()) : 0);

/** A user's (or a Nostr key's) trust now; one that never paid for a request is NEW with 0. */
export async function trustOf(app: AppServices, holder: TrustHolder): Promise<Trust> {
  return trustFromRow(app, await store(holder).read());
}

/** Whose trust a prepaid session counts for: its owner's, else its Nostr key's; an anonymous session without one has none. */
export function trustHolderOf(session: { ownerId: string | null; nostrPubkey: string | null }): TrustHolder | null {
  if (session.ownerId) return { userId: session.ownerId };
  if (session.nostrPubkey) return { pubkey: session.nostrPubkey };
  return null;
}

/** What an anonymous session (no account, no Nostr key, so no trust) gets: never the pool, always screened. */
export const UNTRUSTED = (config: Config): Trust => ({ ...trustFrom(config, 0), freePool: false, screened: true });

/**
 * Adds a completed, charged request's points, once its settling transaction has committed (that
 * transaction claims the request once, so it counts once). The stored score is first decayed to now; a
 * compare-and-set on the row keeps concurrent requests from overwriting each other's points.
 */
export async function recordPaidRequest(app: AppServices, holder: TrustHolder) {
  const now = app.clock();
  const points = app.config.trust.pointsPerRequest;
  const rows = store(holder);
  for (;;) {
    const row = await rows.read();
    if (!row) {
      const made = await rows.create(points, now).catch(() => ({ count: 0 }));
      if (made.count) return;
      continue;
    }
    const score = decayed(app.config, row.score, row.updatedAt, now) + points;
    const done = await rows.swap(row, score, now > row.updatedAt ? now : row.updatedAt);
    if (done.count) return;
  }
}
