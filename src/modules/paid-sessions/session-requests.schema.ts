import { builder } from '../../schema/builder.ts';

const SessionRequestStatus = builder.enumType('SessionRequestStatus', {
  values: ['PENDING', 'COMPLETED', 'REJECTED', 'FAILED'] as const,
});

builder.prismaNode('SessionRequest', {
  id: { field: 'id' },
  description: 'One priced AI request on a prepaid session, with screening and work tokens kept apart.',
  fields: (t) => ({
    status: t.expose('status', { type: SessionRequestStatus }),
    model: t.exposeString('model'),
    screeningModel: t.exposeString('screeningModel', { nullable: true }),
    screeningPromptTokens: t.exposeInt('screeningPromptTokens'),
    screeningCompletionTokens: t.exposeInt('screeningCompletionTokens'),
    workPromptTokens: t.exposeInt('workPromptTokens'),
    workCompletionTokens: t.exposeInt('workCompletionTokens'),
    costSats: t.exposeInt('costSats', { description: 'What the request cost in total.' }),
    absorbedSats: t.exposeInt('absorbedSats', { description: 'The share the free-tier pool paid.' }),
    chargedSats: t.exposeInt('chargedSats', { description: 'The share debited from the balance.' }),
    balanceAfterSats: t.exposeInt('balanceAfterSats', { nullable: true }),
    btcUsd: t.exposeFloat('btcUsd', { nullable: true }),
    breakdown: t.expose('breakdown', { type: 'JSON', nullable: true }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why screening rejected the request.' }),
    error: t.exposeString('error', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    session: t.relation('session'),
  }),
});
