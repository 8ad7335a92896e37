import type { Invoice, Session } from '../../generated/sqlite/client.ts';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { InvoiceRef } from '../invoices/invoices.schema.ts';
import * as paid from './paid-sessions.service.ts';
import './session-requests.schema.ts';
import './session-events.schema.ts';
import './session-chat.schema.ts';
import './trust.schema.ts';

builder.prismaObjectFields('Session', (t) => ({
  prepaid: t.exposeBoolean('prepaid', { description: 'Paid ahead with Lightning invoices; spends its balance.' }),
  balanceSats: t.exposeInt('balanceSats'),
  minimumBalanceSats: t.int({
    description: 'Below this balance the session is PAUSED until topped up.',
    resolve: (_s, _a, ctx) => ctx.app.config.paidSessions.minimumBalance,
  }),
  invoices: t.relatedConnection('invoices', { cursor: 'id', query: { orderBy: { createdAt: 'desc' } } }),
  pendingTopUp: t.prismaField({
    type: 'Invoice',
    nullable: true,
    resolve: (query, s) => db.invoice.findFirst({ ...query, where: { sessionId: s.id, kind: 'TOPUP', state: 'PENDING' } }),
  }),
  requests: t.relatedConnection('requests', { cursor: 'id', query: { orderBy: { createdAt: 'desc' } } }),
}));


const OpenPaidSessionPayload = builder
  .objectRef<{ session: Session; invoice: Invoice; token: string }>('OpenPaidSessionPayload')
  .implement({
    fields: (t) => ({
      session: t.prismaField({ type: 'Session', resolve: (_q, p) => p.session }),
      invoice: t.field({ type: InvoiceRef, resolve: (p) => p.invoice }),
      token: t.exposeString('token', {
        description: 'Shown once. Send it as `Authorization: Bearer <token>` (or in graphql-ws connectionParams) to use the session.',
      }),
    }),
  });

const TopUpSessionPayload = builder.objectRef<{ session: Session; invoice: Invoice }>('TopUpSessionPayload').implement({
  fields: (t) => ({
    session: t.prismaField({ type: 'Session', resolve: (_q, p) => p.session }),
    invoice: t.field({ type: InvoiceRef, resolve: (p) => p.invoice }),
  }),
});

const ClearSessionHistoryPayload = builder
  .objectRef<{ session: Session; deletedMessages: number }>('ClearSessionHistoryPayload')
  .implement({
    fields: (t) => ({
      session: t.prismaField({ type: 'Session', resolve: (_q, p) => p.session }),
      deletedMessages: t.exposeInt('deletedMessages'),
    }),
  });

const OpenPaidSessionInput = builder.inputType('OpenPaidSessionInput', {
  fields: (t) => ({
    amountSats: t.int({ required: true, description: 'The deposit (bounds from config, default 100–10,000).' }),
    threadId: t.id({ description: "Make the paid session the thread's current one (signed-in members only)." }),
  }),
});
const TopUpSessionInput = builder.inputType('TopUpSessionInput', {
  fields: (t) => ({ sessionId: t.id({ required: true }), amountSats: t.int({ required: true }) }),
});
const ClearSessionHistoryInput = builder.inputType('ClearSessionHistoryInput', {
  fields: (t) => ({ sessionId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  openPaidSession: t.field({
    type: OpenPaidSessionPayload,
    args: { input: t.arg({ type: OpenPaidSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      paid.openPaidSession(ctx, {
        amountSats: input.amountSats,
        threadId: input.threadId == null ? null : idOf(input.threadId, 'Thread', 'threadId'),
      }),
  }),
  topUpSession: t.field({
    type: TopUpSessionPayload,
    args: { input: t.arg({ type: TopUpSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => paid.topUpSession(ctx, idOf(input.sessionId, 'Session', 'sessionId'), input),
  }),
  clearSessionHistory: t.field({
    type: ClearSessionHistoryPayload,
    args: { input: t.arg({ type: ClearSessionHistoryInput, required: true }) },
    resolve: (_root, { input }, ctx) => paid.clearSessionHistory(ctx, idOf(input.sessionId, 'Session', 'sessionId')),
  }),
}));
