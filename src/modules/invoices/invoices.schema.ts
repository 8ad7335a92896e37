import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { stateFeed } from '../../live/feed.ts';
import { checkInvoiceAccess } from './invoices.permissions.ts';
import { settleDevInvoice } from './invoices.service.ts';

export const InvoiceKindEnum = builder.enumType('InvoiceKind', { values: ['DEPOSIT', 'TOPUP'] as const });
export const InvoiceStateEnum = builder.enumType('InvoiceState', { values: ['PENDING', 'PAID', 'EXPIRED', 'CANCELLED'] as const });

export const InvoiceRef = builder.prismaNode('Invoice', {
  id: { field: 'id' },
  description: 'A Lightning payment request for a prepaid session: its deposit or a top-up. Settles exactly once.',
  fields: (t) => ({
    kind: t.expose('kind', { type: InvoiceKindEnum }),
    amountSats: t.exposeInt('amountSats'),
    memo: t.exposeString('memo'),
    paymentRequest: t.exposeString('paymentRequest', { description: 'The BOLT 11 request to pay (from the dev backend: a look-alike).' }),
    paymentHash: t.exposeString('paymentHash'),
    state: t.expose('state', { type: InvoiceStateEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    session: t.relation('session'),
  }),
});

const SettleDevInvoiceInput = builder.inputType('SettleDevInvoiceInput', {
  fields: (t) => ({ paymentHash: t.string({ required: true }) }),
});

builder.mutationFields((t) => ({
  settleDevInvoice: t.prismaField({
    type: 'Invoice',
    description: 'Dev backend only: pays an invoice as a wallet would. Absent from the schema with any other backend.',
    args: { input: t.arg({ type: SettleDevInvoiceInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const invoice = await settleDevInvoice(ctx.app, input.paymentHash);
      return db.invoice.findUniqueOrThrow({ ...query, where: { id: invoice.id } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  invoiceUpdated: t.field({
    type: InvoiceRef,
    description: 'The invoice now, then each change of its state; ends once it is PAID, EXPIRED or CANCELLED.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: authorizedSubscribe<{ id: unknown }, any>(
      (ctx, args) => checkInvoiceAccess(ctx, idOf(args.id, 'Invoice')),
      (args, ctx) => {
        const id = idOf(args.id, 'Invoice');
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
