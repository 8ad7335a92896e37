import { builder } from '../../schema/builder.ts';
import type { CostBreakdown, PricedPart } from './pricing.ts';

const SessionRequestStatus = builder.enumType('SessionRequestStatus', {
  description: 'Where a priced request on a prepaid session stands.',
  values: {
    PENDING: { description: 'Under way: sats are held from the balance until it is priced.' },
    COMPLETED: { description: 'Answered, priced and paid for.' },
    REJECTED: { description: 'Refused by screening; only the screening was charged.' },
    FAILED: { description: 'The work failed or was abandoned; only the tokens used were charged.' },
  } as const,
});

const CostBreakdownPartRef = builder.objectRef<PricedPart>('CostBreakdownPart').implement({
  description: 'The price of one model call of a request (its screening or its work).',
  fields: (t) => ({
    model: t.exposeString('model', { description: 'The model that was called.' }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens sent to the model.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the model generated.' }),
    costUsd: t.float({ description: "The tokens at the model's price with the markup, in US dollars.", resolve: (p) => p.usd }),
    costSats: t.int({ description: 'The same in sats, rounded up (any tokens cost at least one sat).', resolve: (p) => p.sats }),
  }),
});

export const CostBreakdownRef = builder.objectRef<CostBreakdown>('CostBreakdown').implement({
  description:
    'How the cost of a request was reached: each model call priced in US dollars and sats, then shared between the ' +
    'free-tier pool (`absorbedSats`) and the balance (`chargedSats`).',
  fields: (t) => ({
    btcUsd: t.exposeFloat('btcUsd', { description: 'The exchange rate used: US dollars per bitcoin.' }),
    markup: t.exposeFloat('markup', { description: "The multiplier applied to the models' prices (`[pricing] markup`)." }),
    screening: t.field({
      type: CostBreakdownPartRef,
      nullable: true,
      description: 'The screening call; null when the request was not screened.',
      resolve: (b) => b.screening,
    }),
    work: t.field({ type: CostBreakdownPartRef, description: 'The call that did the work (the reply).', resolve: (b) => b.work }),
    costSats: t.exposeInt('costSats', { description: 'Screening and work together.' }),
    absorbedSats: t.exposeInt('absorbedSats', { description: 'The share the free-tier pool paid.' }),
    chargedSats: t.exposeInt('chargedSats', { description: 'The share debited from the balance (never more than the balance held).' }),
    heldSats: t.exposeInt('heldSats', { description: 'What was held from the balance before the work; the unused rest went back.' }),
  }),
});

builder.prismaNode('SessionRequest', {
  id: { field: 'id', description: 'Global ID of the request (`node(id)` finds it for the session holder).' },
  description: 'One priced AI request on a prepaid session, with screening and work tokens kept apart.',
  fields: (t) => ({
    status: t.expose('status', { type: SessionRequestStatus, description: 'Where the request stands.' }),
    model: t.exposeString('model', { description: 'The model that does the work.' }),
    screeningModel: t.exposeString('screeningModel', { nullable: true, description: 'The model that screened the request; null when not screened.' }),
    screeningPromptTokens: t.exposeInt('screeningPromptTokens', { description: 'Tokens sent to the screening model.' }),
    screeningCompletionTokens: t.exposeInt('screeningCompletionTokens', { description: 'Tokens the screening model generated.' }),
    workPromptTokens: t.exposeInt('workPromptTokens', { description: 'Tokens sent to the working model.' }),
    workCompletionTokens: t.exposeInt('workCompletionTokens', { description: 'Tokens the working model generated.' }),
    costSats: t.exposeInt('costSats', { description: 'What the request cost in total.' }),
    absorbedSats: t.exposeInt('absorbedSats', { description: 'The share the free-tier pool paid.' }),
    chargedSats: t.exposeInt('chargedSats', { description: 'The share debited from the balance.' }),
    balanceAfterSats: t.exposeInt('balanceAfterSats', { nullable: true, description: 'The balance once this request was paid; null while PENDING.' }),
    btcUsd: t.exposeFloat('btcUsd', { nullable: true, description: 'The exchange rate used (US dollars per bitcoin); null while PENDING.' }),
    breakdown: t.field({
      type: CostBreakdownRef,
      nullable: true,
      description: 'How the cost was reached; null while PENDING.',
      resolve: (r) => r.breakdown as unknown as CostBreakdown | null,
    }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why screening rejected the request (REJECTED only).' }),
    error: t.exposeString('error', { nullable: true, description: 'Why the request failed (FAILED only).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the request started (its sats were held).' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When it was priced and settled; null while PENDING.' }),
    session: t.relation('session', { description: 'The session that paid for it.' }),
  }),
});
