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
import './nostr.schema.ts';

builder.prismaObjectFields('Session', (t) => ({
  prepaid: t.exposeBoolean('prepaid', { description: 'Paid ahead with Lightning invoices; spends its balance.' }),
  balanceSats: t.exposeInt('balanceSats', { description: 'What is left to spend (0 for a session that is not prepaid).' }),
  minimumBalanceSats: t.int({
    description: 'Below this balance the session is PAUSED until topped up.',
    resolve: (_s, _a, ctx) => ctx.app.config.paidSessions.minimumBalance,
  }),
  invoices: t.relatedConnection(
    'invoices',
    {
      cursor: 'id',
      totalCount: true,
      nullable: true,
      description: "The session's invoices, newest first; its owner and token holder only (null with FORBIDDEN to the thread's other readers).",
      query: { orderBy: { createdAt: 'desc' } },
    },
    { name: 'InvoiceConnection', description: 'A page of invoices.' },
    { name: 'InvoiceEdge', description: 'An invoice and its cursor.' },
  ),
  pendingTopUp: t.prismaField({
    type: 'Invoice',
    nullable: true,
    description: 'The top-up invoice waiting for payment, if any (one at a time); owner and token holder only (null with FORBIDDEN to others).',
    resolve: (query, s) => db.invoice.findFirst({ ...query, where: { sessionId: s.id, kind: 'TOPUP', state: 'PENDING' } }),
  }),
  requests: t.relatedConnection(
    'requests',
    {
      cursor: 'id',
      totalCount: true,
      nullable: true,
      description: 'The priced requests made on the session, newest first; owner and token holder only (null with FORBIDDEN to others).',
      query: { orderBy: { createdAt: 'desc' } },
    },
    { name: 'SessionRequestConnection', description: 'A page of session requests.' },
    { name: 'SessionRequestEdge', description: 'A session request and its cursor.' },
  ),
}));

const OpenPaidSessionPayload = builder
  .objectRef<{ session: Session; invoice: Invoice; token: string }>('OpenPaidSessionPayload')
  .implement({
    description: 'A new prepaid session waiting for its deposit, the deposit invoice and the session token.',
    fields: (t) => ({
      session: t.prismaField({ type: 'Session', description: 'The new session, AWAITING_PAYMENT until the deposit is paid.', resolve: (_q, p) => p.session }),
      invoice: t.field({ type: InvoiceRef, description: 'The deposit invoice to pay.', resolve: (p) => p.invoice }),
      token: t.exposeString('token', {
        description: 'Shown once. Send it as `Authorization: Bearer <token>` (or in graphql-ws connectionParams) to use the session.',
      }),
    }),
  });

const TopUpSessionPayload = builder.objectRef<{ session: Session; invoice: Invoice }>('TopUpSessionPayload').implement({
  description: 'The session and the top-up invoice to pay.',
  fields: (t) => ({
    session: t.prismaField({ type: 'Session', description: 'The session being topped up (its balance grows once the invoice is paid).', resolve: (_q, p) => p.session }),
    invoice: t.field({ type: InvoiceRef, description: 'The top-up invoice to pay.', resolve: (p) => p.invoice }),
  }),
});

const ClearSessionHistoryPayload = builder
  .objectRef<{ session: Session; deletedMessages: number }>('ClearSessionHistoryPayload')
  .implement({
    description: 'The session after its conversation was forgotten.',
    fields: (t) => ({
      session: t.prismaField({ type: 'Session', description: 'The session, with no messages left and its history tokens at 0.', resolve: (_q, p) => p.session }),
      deletedMessages: t.exposeInt('deletedMessages', { description: 'How many messages were deleted.' }),
    }),
  });

const OpenPaidSessionInput = builder.inputType('OpenPaidSessionInput', {
  description: 'The deposit of a new prepaid session, and optionally the thread it serves.',
  fields: (t) => ({
    amountSats: t.int({ required: true, description: 'The deposit (bounds from config, default 100–10,000).' }),
    threadId: t.id({ description: "Make the paid session the thread's current one (signed-in members only)." }),
  }),
});
const TopUpSessionInput = builder.inputType('TopUpSessionInput', {
  description: 'A top-up of a live prepaid session.',
  fields: (t) => ({
    sessionId: t.id({ required: true, description: 'The session to top up.' }),
    amountSats: t.int({ required: true, description: 'The amount to add (the same bounds as a deposit).' }),
  }),
});
const ClearSessionHistoryInput = builder.inputType('ClearSessionHistoryInput', {
  description: 'The standalone prepaid session whose conversation to forget.',
  fields: (t) => ({ sessionId: t.id({ required: true, description: 'The session to clear (not one that belongs to a thread).' }) }),
});

builder.mutationFields((t) => ({
  openPaidSession: t.field({
    type: OpenPaidSessionPayload,
    description:
      'Opens a prepaid session AWAITING_PAYMENT and issues its deposit invoice; paying it makes the session ACTIVE. For ' +
      'people signed in or anonymous, not API keys (FORBIDDEN). An amount out of bounds is BAD_USER_INPUT; too many opens ' +
      'a minute are RATE_LIMITED; a thread needs a signed-in member with write access (else UNAUTHENTICATED or NOT_FOUND).',
    args: { input: t.arg({ type: OpenPaidSessionInput, required: true, description: 'The deposit and the thread, if any.' }) },
    resolve: (_root, { input }, ctx) =>
      paid.openPaidSession(ctx, {
        amountSats: input.amountSats,
        threadId: input.threadId == null ? null : idOf(input.threadId, 'Thread', 'threadId'),
      }),
  }),
  topUpSession: t.field({
    type: TopUpSessionPayload,
    description:
      "Issues a top-up invoice for a live session (its owner or token holder; NOT_FOUND to others). One top-up may be " +
      'pending at a time (CONFLICT, naming it); an unpaid deposit is CONFLICT; an ended session is GONE.',
    args: { input: t.arg({ type: TopUpSessionInput, required: true, description: 'The session and the amount.' }) },
    resolve: (_root, { input }, ctx) => paid.topUpSession(ctx, idOf(input.sessionId, 'Session', 'sessionId'), input),
  }),
  clearSessionHistory: t.field({
    type: ClearSessionHistoryPayload,
    description:
      "Forgets a standalone prepaid session's conversation; its balance and requests stay. A thread's session is " +
      "BAD_USER_INPUT (its messages are the thread's); an ended session is GONE; to anyone but its owner or token holder it is NOT_FOUND.",
    args: { input: t.arg({ type: ClearSessionHistoryInput, required: true, description: 'The session to clear.' }) },
    resolve: (_root, { input }, ctx) => paid.clearSessionHistory(ctx, idOf(input.sessionId, 'Session', 'sessionId')),
  }),
}));
