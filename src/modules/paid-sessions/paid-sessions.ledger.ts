import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db, type Tx } from '../../db/client.ts';
import type { Invoice, Session } from '../../generated/sqlite/client.ts';
import type { SessionStateName } from './paid-sessions.topics.ts';

/** The part of a session its subscribers are told about. */
export type SessionSnapshot = Pick<Session, 'id' | 'state' | 'balanceSats' | 'expiresAt'>;

const LIVE_STATES: SessionStateName[] = ['AWAITING_PAYMENT', 'ACTIVE', 'PAUSED'];

export function publishSession(app: AppServices, s: SessionSnapshot) {
  app.pubsub.publish('session:event', s.id, {
    type: 'SessionStateChanged',
    state: s.state,
    balanceSats: s.balanceSats,
    expiresAt: s.expiresAt?.toISOString() ?? null,
  });
}

export const expiryFrom = (config: Config, now = Date.now()) => new Date(now + config.paidSessions.ttl * 1000);

/**
 * ACTIVE ⇄ PAUSED follows the balance: below the minimum a live session pauses, at or above it a paused
 * one resumes. Conditional updates, so a concurrent debit or credit cannot leave the wrong state behind.
 */
export async function settleState(tx: Tx, config: Config, sessionId: string) {
  const min = config.paidSessions.minimumBalance;
  await tx.session.updateMany({ where: { id: sessionId, state: 'ACTIVE', balanceSats: { lt: min } }, data: { state: 'PAUSED' } });
  await tx.session.updateMany({ where: { id: sessionId, state: 'PAUSED', balanceSats: { gte: min } }, data: { state: 'ACTIVE' } });
}

/**
 * Credits a paid invoice to its session (inside the settling transaction). A deposit activates the
 * session and, for a thread's session, makes it the thread's current one; a top-up extends the expiry
 * and may resume a paused session. The balance is incremented in SQL, never rewritten from a read.
 */
export async function creditForInvoice(tx: Tx, config: Config, invoice: Invoice): Promise<SessionSnapshot> {
  const id = invoice.sessionId;
  const expiresAt = expiryFrom(config);
  if (invoice.kind === 'DEPOSIT') {
    await tx.session.updateMany({ where: { id, state: 'AWAITING_PAYMENT' }, data: { state: 'ACTIVE', expiresAt } });
  } else {
    await tx.session.updateMany({ where: { id, state: { in: ['ACTIVE', 'PAUSED'] } }, data: { expiresAt } });
  }
  await tx.session.update({ where: { id }, data: { balanceSats: { increment: invoice.amountSats } } });
  await settleState(tx, config, id);
  const session = await tx.session.findUniqueOrThrow({ where: { id } });
  if (invoice.kind === 'DEPOSIT' && session.threadId && session.state !== 'EXPIRED' && session.state !== 'CLOSED') {
    const thread = await tx.thread.findUniqueOrThrow({ where: { id: session.threadId }, select: { currentSessionId: true } });
    await tx.thread.update({ where: { id: session.threadId }, data: { currentSessionId: session.id } });
    // The plan-metered session it replaces ends, as on a rotation; an earlier paid one keeps its balance and state.
    if (thread.currentSessionId && thread.currentSessionId !== session.id) {
      await tx.session.updateMany({
        where: { id: thread.currentSessionId, prepaid: false, state: 'ACTIVE' },
        data: { state: 'CLOSED', closedAt: new Date() },
      });
    }
  }
  return session;
}

/** Marks a live prepaid session EXPIRED if its time is up; true when this call expired it. */
export async function expireIfDue(app: AppServices, session: Pick<Session, 'id' | 'state' | 'expiresAt' | 'prepaid'>) {
  if (!session.prepaid || !session.expiresAt || session.expiresAt > new Date() || !LIVE_STATES.includes(session.state)) return false;
  const done = await db.session.updateMany({
    where: { id: session.id, state: { in: LIVE_STATES }, expiresAt: { lte: new Date() } },
    data: { state: 'EXPIRED' },
  });
  if (!done.count) return false;
  publishSession(app, await db.session.findUniqueOrThrow({ where: { id: session.id } }));
  return true;
}

/** Expires every prepaid session whose time is up (the worker's sweep). */
export async function expireDueSessions(app: AppServices, limit = 200) {
  const due = await db.session.findMany({
    where: { prepaid: true, state: { in: LIVE_STATES }, expiresAt: { lte: new Date() } },
    select: { id: true, state: true, expiresAt: true, prepaid: true },
    take: limit,
  });
  let expired = 0;
  for (const s of due) if (await expireIfDue(app, s)) expired++;
  return expired;
}
