import { randomUUID } from 'node:crypto';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { gone, notFound } from '../../errors.ts';
import type { Invoice } from '../../generated/sqlite/client.ts';
import { devSettleAllowed, lightningFor } from '../lightning/lightning.backend.ts';
import { creditForInvoice, publishSession, type SessionSnapshot } from '../paid-sessions/paid-sessions.ledger.ts';

export type InvoiceKindName = 'DEPOSIT' | 'TOPUP';

/**
 * Asks the Lightning backend for an invoice and returns the row to store. The row is written by the
 * caller, in the same transaction as whatever the invoice pays for.
 */
export async function issueInvoice(app: AppServices, sessionId: string, kind: InvoiceKindName, amountSats: number) {
  const id = randomUUID();
  const { invoiceTtl } = app.config.lightning;
  const memo = `Confab ${kind === 'DEPOSIT' ? 'session deposit' : 'session top-up'} ${sessionId}`;
  const backend = lightningFor(app.config);
  const issued = await backend.createInvoice({ id, amountSats, memo, expirySec: invoiceTtl });
  return {
    id,
    sessionId,
    kind,
    amountSats,
    memo,
    backend: backend.name,
    ...issued,
    pendingKey: kind === 'TOPUP' ? `${sessionId}:TOPUP` : null,
    expiresAt: new Date(Date.now() + invoiceTtl * 1000),
  };
}

export function publishInvoice(app: AppServices, invoice: Pick<Invoice, 'id' | 'state' | 'paidAt'>) {
  app.pubsub.publish('invoice:updated', invoice.id, { state: invoice.state, paidAt: invoice.paidAt?.toISOString() ?? null });
}

/**
 * Marks a PENDING invoice PAID and credits its session, exactly once: the conditional update lets one
 * caller through however many (poll, webhook, dev mutation, other instances) race on the same invoice.
 * Returns whether this call was the one that settled it.
 */
export async function settleInvoice(app: AppServices, where: { id: string } | { paymentHash: string }) {
  const outcome = await db.$transaction(async (tx) => {
    const invoice = await tx.invoice.findUnique({ where });
    if (!invoice) return null;
    const paidAt = new Date();
    const won = await tx.invoice.updateMany({ where: { id: invoice.id, state: 'PENDING' }, data: { state: 'PAID', paidAt, pendingKey: null } });
    // Lost the race (or it was never pending): report the invoice as the winner left it.
    if (!won.count) return { invoice: await tx.invoice.findUniqueOrThrow({ where: { id: invoice.id } }), settled: false as const };
    const session: SessionSnapshot = await creditForInvoice(tx, app.config, invoice);
    return { invoice: { ...invoice, state: 'PAID' as const, paidAt, pendingKey: null }, settled: true as const, session };
  });
  if (outcome?.settled) {
    publishInvoice(app, outcome.invoice);
    publishSession(app, outcome.session);
  }
  return outcome;
}

/** PENDING → EXPIRED (or CANCELLED) unless something settled it first. */
export async function closeInvoice(app: AppServices, id: string, state: 'EXPIRED' | 'CANCELLED') {
  const done = await db.invoice.updateMany({ where: { id, state: 'PENDING' }, data: { state, pendingKey: null } });
  if (done.count) publishInvoice(app, { id, state, paidAt: null });
  return done.count > 0;
}

/** The dev backend's stand-in for a payer. Settling twice is harmless: the invoice is returned as it is. */
export async function settleDevInvoice(app: AppServices, paymentHash: string) {
  const found = await db.invoice.findUnique({ where: { paymentHash: paymentHash.trim() } });
  if (!devSettleAllowed(app.config) || !found || found.backend !== 'dev') throw notFound('Invoice');
  const outcome = await settleInvoice(app, { id: found.id });
  if (!outcome) throw notFound('Invoice');
  if (!outcome.settled && outcome.invoice.state !== 'PAID') throw gone(`This invoice is ${outcome.invoice.state.toLowerCase()}`);
  return outcome.invoice;
}
