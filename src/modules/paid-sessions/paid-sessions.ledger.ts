import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db, TX_TIMING, type Tx } from '../../db/client.ts';
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

/**
 * Marks a live prepaid session EXPIRED if its time is up; true when this call expired it. With
 * `[paid_sessions] purge_on_expiry`, its conversation goes in the same transaction (purgeConversation).
 */
export async function expireIfDue(app: AppServices, session: Pick<Session, 'id' | 'state' | 'expiresAt' | 'prepaid'>) {
  if (!session.prepaid || !session.expiresAt || session.expiresAt > new Date() || !LIVE_STATES.includes(session.state)) return false;
  const expire = async (tx: Tx) => {
    const done = await tx.session.updateMany({
      where: { id: session.id, state: { in: LIVE_STATES }, expiresAt: { lte: new Date() } },
      data: { state: 'EXPIRED' },
    });
    return done.count ? { deletedThreadId: null } : null;
  };
  const outcome = app.config.paidSessions.purgeOnExpiry
    ? await db.$transaction(async (tx) => ((await expire(tx)) ? purgeConversation(tx, session.id) : null), TX_TIMING)
    : await expire(db);
  if (!outcome) return false;
  publishSession(app, await db.session.findUniqueOrThrow({ where: { id: session.id } }));
  // The thread's own streams hear it last, as when a thread is deleted (threads.service announceThreadsDeleted).
  if (outcome.deletedThreadId) app.pubsub.publish('thread:event', outcome.deletedThreadId, { type: 'ThreadDeleted', threadId: outcome.deletedThreadId });
  return true;
}

/**
 * Deletes an expired prepaid session's messages; its invoices, requests and balance stay. A thread that
 * was there only for it (it held messages of this session only, and no other live prepaid session) is deleted too,
 * after every prepaid session of it is detached (a thread's deletion cascades to its sessions, and with
 * them to their invoices). A thread with other content keeps it: its first and last message times are
 * read again, and the deleted messages' seqs are never reused.
 */
async function purgeConversation(tx: Tx, sessionId: string): Promise<{ deletedThreadId: string | null }> {
  const { threadId } = await tx.session.findUniqueOrThrow({ where: { id: sessionId }, select: { threadId: true } });
  const { count } = await tx.message.deleteMany({ where: { sessionId } });
  await tx.session.update({ where: { id: sessionId }, data: { historyTokens: 0, summary: null } });
  // A thread the session never wrote to (an unpaid deposit, an unused session) was not there for it.
  if (!threadId || !count) return { deletedThreadId: null };
  const othersMessages = await tx.message.count({ where: { threadId } });
  const othersLive = await tx.session.count({ where: { threadId, id: { not: sessionId }, prepaid: true, state: { in: LIVE_STATES } } });
  if (!othersMessages && !othersLive) {
    await tx.session.updateMany({ where: { threadId, prepaid: true }, data: { threadId: null } });
    await tx.thread.delete({ where: { id: threadId } });
    return { deletedThreadId: threadId };
  }
  const span = await tx.message.aggregate({ where: { threadId }, _min: { createdAt: true }, _max: { createdAt: true } });
  await tx.thread.update({ where: { id: threadId }, data: { firstMessageAt: span._min.createdAt, lastMessageAt: span._max.createdAt } });
  return { deletedThreadId: null };
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
