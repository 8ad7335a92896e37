import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { stateFeed } from '../../live/feed.ts';
import { checkInvoiceAccess } from './invoices.permissions.ts';
import { settleDevInvoice } from './invoices.service.ts';

export const InvoiceKindEnum = builder.enumType('InvoiceKind', {
  description: 'What an invoice pays for.',
  values: {
    DEPOSIT: { description: 'The deposit that activates a new prepaid session.' },
    TOPUP: { description: "A top-up of a live session's balance." },
  } as const,
});
export const InvoiceStateEnum = builder.enumType('InvoiceState', {
  description: 'Where an invoice stands; every state but PENDING is final.',
  values: {
    PENDING: { description: 'Waiting for payment until `expiresAt`.' },
    PAID: { description: 'Paid and credited to its session (exactly once).' },
    EXPIRED: { description: 'Not paid in time; paying it now credits nothing.' },
    CANCELLED: { description: 'Withdrawn before it was paid.' },
  } as const,
});

export const InvoiceRef = builder.prismaNode('Invoice', {
  id: { field: 'id', description: 'Global ID of the invoice (`invoiceUpdated(invoiceId)`, `node(id)`).' },
  description: 'A Lightning payment request for a prepaid session: its deposit or a top-up. Settles exactly once.',
  fields: (t) => ({
    kind: t.expose('kind', { type: InvoiceKindEnum, description: 'What the invoice pays for.' }),
    amountSats: t.exposeInt('amountSats', { description: 'The amount to pay, credited to the session once paid.' }),
    memo: t.exposeString('memo', { description: "The description in the payment request, shown by the payer's wallet." }),
    paymentRequest: t.exposeString('paymentRequest', { description: 'The BOLT 11 request to pay (from the dev backend: a look-alike).' }),
    paymentHash: t.exposeString('paymentHash', { description: 'The payment hash (hex) that identifies the payment on the Lightning network.' }),
    state: t.expose('state', { type: InvoiceStateEnum, description: 'Where the invoice stands.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the invoice was issued.' }),
    paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true, description: 'When the payment was confirmed; null unless PAID.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When an unpaid invoice expires (`[lightning] invoice_ttl` after issue).' }),
    session: t.relation('session', { description: 'The prepaid session the invoice pays for.' }),
  }),
});

const SettleDevInvoiceInput = builder.inputType('SettleDevInvoiceInput', {
  description: 'The invoice to pay with the dev Lightning backend.',
  fields: (t) => ({ paymentHash: t.string({ required: true, description: 'The `paymentHash` of a PENDING invoice the dev backend issued.' }) }),
});

builder.mutationFields((t) => ({
  settleDevInvoice: t.prismaField({
    type: 'Invoice',
    description:
      'Development only: pays an invoice of the `dev` Lightning backend as a wallet would, and returns it PAID. Exists only ' +
      'while `[lightning] backend` is `dev` outside production (printed in schema.dev.graphql, not schema.graphql). ' +
      'Paying a PAID invoice again returns it unchanged; an unknown hash is NOT_FOUND; an EXPIRED or CANCELLED invoice is GONE.',
    args: { input: t.arg({ type: SettleDevInvoiceInput, required: true, description: 'The invoice to pay.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const invoice = await settleDevInvoice(ctx.app, input.paymentHash);
      return db.invoice.findUniqueOrThrow({ ...query, where: { id: invoice.id } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  invoiceUpdated: t.field({
    type: InvoiceRef,
    description:
      'The invoice now, then each change of its state; ends once it is PAID, EXPIRED or CANCELLED. For whoever may see its ' +
      'session (its owner, or the holder of its token); to anyone else the invoice is NOT_FOUND.',
    args: { invoiceId: t.arg.id({ required: true, description: 'The invoice to watch.' }) },
    subscribe: authorizedSubscribe<{ invoiceId: unknown }, any>(
      (ctx, args) => checkInvoiceAccess(ctx, idOf(args.invoiceId, 'Invoice', 'invoiceId')),
      (args, ctx) => {
        const id = idOf(args.invoiceId, 'Invoice', 'invoiceId');
        const load = async () => (await db.invoice.findUnique({ where: { id } })) ?? Promise.reject(notFound('Invoice'));
        return stateFeed(ctx.app.pubsub, 'invoice:updated', id, {
          current: load,
          map: async (e) => ({ ...(await load()), state: e.state, paidAt: e.paidAt ? new Date(e.paidAt) : null }),
          isTerminal: (inv) => inv.state !== 'PENDING',
        });
      },
    ),
    resolve: (invoice) => invoice,
  }),
}));
