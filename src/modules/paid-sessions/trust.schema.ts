import { TRUST_TIERS } from '../../config.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { trustFromRow, trustHolderOf, trustOf, type Trust } from './trust.ts';

const TrustTier = builder.enumType('TrustTier', {
  description: 'Tiers by trust score, lowest first; the thresholds are set in `[trust]`.',
  values: {
    NEW: { description: 'Below `established_score`: a user who has paid for little or nothing yet.' },
    ESTABLISHED: { description: 'At least `[trust] established_score`.' },
    TRUSTED: { description: 'At least `[trust] trusted_score`.' },
    ELITE: { description: 'At least `[trust] elite_score`.' },
  } satisfies Record<(typeof TRUST_TIERS)[number], { description: string }>,
});

const TrustRef = builder.objectRef<Trust>('Trust').implement({
  description:
    'How far the user is trusted with prepaid sessions. The score rises with each completed, paid request and halves every ' +
    '`[trust] half_life_days` without one; the tier decides the free-tier pool and screening.',
  fields: (t) => ({
    score: t.exposeFloat('score', { description: 'As of now (decay included).' }),
    tier: t.field({ type: TrustTier, description: 'The tier the score reaches now.', resolve: (x) => x.tier }),
    freePool: t.exposeBoolean('freePool', { description: "The free-tier pool may pay part of this user's requests." }),
    screened: t.exposeBoolean('screened', { description: "This user's requests are screened (when screening is on)." }),
  }),
});

builder.prismaObjectField(ViewerRef, 'trust', (t) =>
  t.field({
    type: TrustRef,
    description: 'How far you are trusted with prepaid sessions (`me { trust { tier score } }`).',
    resolve: (user, _args, ctx) => trustOf(ctx.app, { userId: user.id }),
  }),
);

const SessionTrustTier = builder.enumType('SessionTrustTier', {
  description: "The trust tier a prepaid session is served at: its owner's, else its Nostr key's; ANONYMOUS with neither.",
  values: {
    ANONYMOUS: { description: 'Neither an owner nor a Nostr key: never the free-tier pool, always screened (when screening is on).' },
    NEW: { description: 'The identity is below `[trust] established_score`.' },
    ESTABLISHED: { description: 'The identity has at least `[trust] established_score`.' },
    TRUSTED: { description: 'The identity has at least `[trust] trusted_score`.' },
    ELITE: { description: 'The identity has at least `[trust] elite_score`.' },
  } as const,
});

/** Trust rows of the holders of a page of sessions, read once per kind of holder. */
const trustRows = (ctx: Context) => ({
  user: ctx.loader<string, { score: number; updatedAt: Date } | null>('trust:user', async (ids) => {
    const rows = await db.userTrust.findMany({ where: { userId: { in: [...ids] } } });
    return ids.map((id) => rows.find((r) => r.userId === id) ?? null);
  }),
  nostr: ctx.loader<string, { score: number; updatedAt: Date } | null>('trust:nostr', async (keys) => {
    const rows = await db.nostrIdentity.findMany({ where: { pubkey: { in: [...keys] } } });
    return keys.map((k) => rows.find((r) => r.pubkey === k) ?? null);
  }),
});

builder.prismaObjectFields('Session', (t) => ({
  trustTier: t.field({
    type: SessionTrustTier,
    description: "The tier that decides this session's free-tier pool share and screening: its owner's trust, else its Nostr key's, else ANONYMOUS.",
    resolve: async (session, _args, ctx) => {
      const holder = trustHolderOf(session);
      if (!holder) return 'ANONYMOUS' as const;
      const rows = trustRows(ctx);
      return trustFromRow(ctx.app, await ('userId' in holder ? rows.user.load(holder.userId) : rows.nostr.load(holder.pubkey))).tier;
    },
  }),
  nostrPubkey: t.exposeString('nostrPubkey', {
    nullable: true,
    description: 'The Nostr public key (hex) bound when the session was opened with an x-nostr-token; null without one.',
  }),
}));
