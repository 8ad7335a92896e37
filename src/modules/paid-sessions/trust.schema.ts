import { TRUST_TIERS } from '../../config.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { trustOf, type Trust } from './trust.ts';

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
    resolve: (user, _args, ctx) => trustOf(ctx.app, user.id),
  }),
);
