import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, passes } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { canAccessSession } from '../paid-sessions/paid-sessions.service.ts';

/** An invoice is visible to whoever may see its session. */
export async function checkInvoiceAccess(ctx: Context, invoiceId: string) {
  const invoice = await db.invoice.findUnique({ where: { id: invoiceId }, include: { session: true } });
  return invoice && (await canAccessSession(ctx, invoice.session)) ? true : notFound('Invoice');
}

export const invoicesPermissions: DomainPermissions = {
  rules: {
    // Paying is not a privilege: anyone holding a payment request may pay it. The field exists only with the dev backend.
    Mutation: { settleDevInvoice: allow },
    Subscription: { invoiceUpdated: allow },
    Invoice: { '*': allow },
  },
  nodes: {
    Invoice: (ctx, invoice: { id: string }) => passes(checkInvoiceAccess(ctx, invoice.id)),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: { Subscription: ['invoiceUpdated'], Invoice: '*' },
};
