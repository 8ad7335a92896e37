import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Invoice, Session } from '../../generated/sqlite/client.ts';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { InvoiceRef } from '../invoices/invoices.schema.ts';
import { currentThenLive } from './live.ts';
import * as paid from './paid-sessions.service.ts';
import type { SessionEventPayload } from './paid-sessions.topics.ts';
import './session.type.ts';
import { SessionStateEnum } from './session.type.ts';
import './session-requests.schema.ts';

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

type StateEvent = Extract<SessionEventPayload, { type: 'SessionStateChanged' }> & { sessionId: string };
type CostEvent = Extract<SessionEventPayload, { type: 'CostDebited' }> & { sessionId: string };
type SessionEvent = StateEvent | CostEvent;

const SessionStateChanged = builder.objectRef<StateEvent>('SessionStateChanged').implement({
  description: "The session's state, balance or expiry changed; `session` shows it as of this change.",
  fields: (t) => ({
    state: t.field({ type: SessionStateEnum, resolve: (e) => e.state }),
    balanceSats: t.exposeInt('balanceSats'),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.expiresAt }),
    session: t.prismaField({
      type: 'Session',
      resolve: async (query, e) => {
        const s = await db.session.findUnique({ ...query, where: { id: e.sessionId } });
        if (!s) throw notFound('Session');
        return { ...s, state: e.state, balanceSats: e.balanceSats, expiresAt: e.expiresAt ? new Date(e.expiresAt) : null };
      },
    }),
  }),
});

const CostDebited = builder.objectRef<CostEvent>('CostDebited').implement({
  description: 'A request on the session was priced and paid for.',
  fields: (t) => ({
    requestId: t.id({ resolve: (e) => encodeGlobalID('SessionRequest', e.requestId) }),
    sats: t.exposeInt('sats', { description: 'Debited from the balance (after any free-tier share).' }),
    balanceAfter: t.exposeInt('balanceAfter'),
    breakdown: t.field({ type: 'JSON', resolve: (e) => e.breakdown }),
    request: t.prismaField({ type: 'SessionRequest', resolve: (query, e) => db.sessionRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } }) }),
  }),
});

export const SessionEventUnion = builder.unionType('SessionEvent', {
  types: [SessionStateChanged, CostDebited],
  resolveType: (e: SessionEvent) => (e.type === 'CostDebited' ? CostDebited : SessionStateChanged),
});

const stateOf = (s: Session): StateEvent => ({
  type: 'SessionStateChanged',
  sessionId: s.id,
  state: s.state,
  balanceSats: s.balanceSats,
  expiresAt: s.expiresAt?.toISOString() ?? null,
});

builder.subscriptionFields((t) => ({
  sessionEvents: t.field({
    type: SessionEventUnion,
    description: 'The session now (SessionStateChanged), then its changes and debits; ends when it expires or closes.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: authorizedSubscribe<{ id: unknown }, SessionEvent>(
      (ctx, args) => paid.checkSessionAccess(ctx, idOf(args.id, 'Session')),
      (args, ctx) => {
        const id = idOf(args.id, 'Session');
        return currentThenLive<SessionEventPayload, SessionEvent>(
          ctx.app.pubsub.subscribe('session:events', id),
          async () => stateOf(await db.session.findUniqueOrThrow({ where: { id } })),
          (e) => (e.type === 'Chat' ? null : { ...e, sessionId: id }),
          (e) => e.type === 'SessionStateChanged' && (e.state === 'EXPIRED' || e.state === 'CLOSED'),
        );
      },
    ),
    resolve: (e) => e,
  }),
}));
