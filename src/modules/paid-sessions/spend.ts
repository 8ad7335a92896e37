import type { AppServices } from '../../context.ts';
import { db, Prisma, TX_TIMING } from '../../db/client.ts';
import { gone, notFound, paymentRequired } from '../../errors.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import { expireIfDue, expiryFrom, publishSession, settleState } from './paid-sessions.ledger.ts';
import { poolShare, releasePool, reservePool } from './pool.ts';
import { recordPaidRequest, trustHolderOf, trustOf, UNTRUSTED } from './trust.ts';
import { btcUsd, pricePart, type CostBreakdown, type PricedPart, type TokenCounts } from './pricing.ts';

export interface Hold {
  requestId: string;
  sessionId: string;
  heldSats: number;
  poolReservedSats: number;
  /** The trust tier of the session's owner (or Nostr key) exempts this request from screening. */
  skipScreening?: boolean;
}

const requiredError = (app: AppServices, balanceSats: number) =>
  paymentRequired('The session balance is below the minimum; top it up to continue', {
    balanceSats,
    minimumBalanceSats: app.config.paidSessions.minimumBalance,
  });

/**
 * Before any work: the session must be live and at or above the minimum balance, and a hold is taken
 * from the balance (and a share from the free-tier pool when the trust tier of the session's owner or Nostr key earns it) with conditional updates,
 * so that concurrent requests cannot spend the same sats. Expired → GONE; unpaid or too low →
 * PAYMENT_REQUIRED (a live session that fell below the minimum is PAUSED on the way).
 */
export async function reserve(app: AppServices, sessionId: string, model: string): Promise<Hold> {
  const session = await db.session.findUnique({ where: { id: sessionId } });
  if (!session?.prepaid) throw notFound('Session');
  if ((await expireIfDue(app, session)) || session.state === 'EXPIRED' || session.state === 'CLOSED') throw gone('This session has expired');
  if (session.state === 'AWAITING_PAYMENT') {
    throw paymentRequired('The deposit has not been paid yet', { balanceSats: 0, minimumBalanceSats: app.config.paidSessions.minimumBalance });
  }
  const { minimumBalance, requestHoldSats } = app.config.paidSessions;
  const holder = trustHolderOf(session);
  const trust = holder ? await trustOf(app, holder) : UNTRUSTED(app.config);
  const poolWant = await poolShare(app, trust);
  const hold = await db.$transaction(async (tx) => {
    const took = await tx.session.updateMany({
      where: { id: sessionId, state: 'ACTIVE', balanceSats: { gte: Math.max(minimumBalance, requestHoldSats) } },
      data: { balanceSats: { decrement: requestHoldSats }, expiresAt: expiryFrom(app.config) },
    });
    if (!took.count) return null;
    const poolReservedSats = poolWant ? await reservePool(tx, poolWant) : 0;
    const row = await tx.sessionRequest.create({ data: { sessionId, model, heldSats: requestHoldSats, poolReservedSats } });
    return { requestId: row.id, sessionId, heldSats: requestHoldSats, poolReservedSats, skipScreening: !trust.screened };
  }, TX_TIMING);
  if (hold) return hold;
  const after = await db.$transaction(async (tx) => {
    await settleState(tx, app.config, sessionId);
    return tx.session.findUniqueOrThrow({ where: { id: sessionId } });
  }, TX_TIMING);
  if (after.state !== session.state) publishSession(app, after);
  if (after.state === 'EXPIRED' || after.state === 'CLOSED') throw gone('This session has expired');
  throw requiredError(app, after.balanceSats);
}

export interface Outcome {
  status: 'COMPLETED' | 'REJECTED' | 'FAILED';
  model: string;
  work: TokenCounts;
  screening?: (TokenCounts & { model: string }) | null;
  reason?: string | null;
  error?: string | null;
  messageId?: string | null;
}

/**
 * After the work: prices screening and work tokens, takes what is due from the pool share first,
 * then from the hold, then (if the hold was short) from what is left of the balance — never below
 * zero — and returns the rest of the hold. The request row is claimed PENDING → final in the same
 * transaction, so a request is never debited twice.
 */
export async function reconcile(app: AppServices, hold: Hold, outcome: Outcome) {
  const pending = await db.sessionRequest.count({ where: { id: hold.requestId, status: 'PENDING' } });
  if (!pending) return null;
  const rate = await btcUsd(app);
  const screening: PricedPart | null = outcome.screening ? pricePart(app, outcome.screening.model, outcome.screening, rate) : null;
  const work = pricePart(app, outcome.model, outcome.work, rate);
  const costSats = (screening?.sats ?? 0) + work.sats;
  const absorbedSats = Math.min(hold.poolReservedSats, costSats);
  const due = costSats - absorbedSats;
  const result = await db.$transaction(async (tx) => {
    const claimed = await tx.sessionRequest.updateMany({
      where: { id: hold.requestId, status: 'PENDING' },
      data: { status: outcome.status, completedAt: new Date() },
    });
    if (!claimed.count) return null;
    await releasePool(tx, hold.poolReservedSats - absorbedSats);
    let chargedSats = Math.min(due, hold.heldSats);
    if (hold.heldSats > due) {
      await tx.session.update({ where: { id: hold.sessionId }, data: { balanceSats: { increment: hold.heldSats - due } } });
    }
    for (let extra = due - hold.heldSats; extra > 0; ) {
      const { balanceSats } = await tx.session.findUniqueOrThrow({ where: { id: hold.sessionId }, select: { balanceSats: true } });
      const take = Math.min(extra, balanceSats);
      if (take <= 0) break;
      const ok = await tx.session.updateMany({ where: { id: hold.sessionId, balanceSats: { gte: take } }, data: { balanceSats: { decrement: take } } });
      if (ok.count) {
        chargedSats += take;
        extra = 0;
      }
    }
    await settleState(tx, app.config, hold.sessionId);
    const session = await tx.session.findUniqueOrThrow({ where: { id: hold.sessionId } });
    const breakdown: CostBreakdown = { btcUsd: rate, markup: app.config.pricing.markup, screening, work, costSats, absorbedSats, chargedSats, heldSats: hold.heldSats };
    await tx.sessionRequest.update({
      where: { id: hold.requestId },
      data: {
        screeningModel: screening?.model ?? null,
        screeningPromptTokens: screening?.promptTokens ?? 0,
        screeningCompletionTokens: screening?.completionTokens ?? 0,
        workPromptTokens: outcome.work.promptTokens,
        workCompletionTokens: outcome.work.completionTokens,
        costSats,
        absorbedSats,
        chargedSats,
        balanceAfterSats: session.balanceSats,
        btcUsd: rate,
        breakdown: breakdown as unknown as Prisma.InputJsonObject,
        reason: outcome.reason ?? null,
        error: outcome.error ?? null,
        messageId: outcome.messageId ?? null,
      },
    });
    return { session, chargedSats, breakdown };
  }, TX_TIMING);
  if (!result) return null;
  // Trust rises with requests that were done and paid for (not screening rejections, failures, or free rides).
  const holder = trustHolderOf(result.session);
  if (outcome.status === 'COMPLETED' && result.chargedSats > 0 && holder) {
    // After the commit: a failure here costs a point, never the request's answer.
    await recordPaidRequest(app, holder).catch((err: unknown) => app.log.error({ err }, 'trust score not updated'));
  }
  publishDebit(app, hold.requestId, result.session, result.chargedSats, result.breakdown);
  return result;
}

function publishDebit(app: AppServices, requestId: string, session: Session, chargedSats: number, breakdown: CostBreakdown) {
  app.pubsub.publish('session:event', session.id, { type: 'CostDebited', requestId, chargedSats, balanceAfterSats: session.balanceSats, breakdown });
  publishSession(app, session);
}

/** A hold older than this whose request never finished (the process died, the turn threw) is given back. */
const STALE_HOLD_MS = 15 * 60 * 1000;

/** The worker's part: reconciles abandoned holds as FAILED with nothing used, returning the sats. */
export async function releaseStaleHolds(app: AppServices) {
  const stale = await db.sessionRequest.findMany({
    where: { status: 'PENDING', createdAt: { lt: new Date(Date.now() - STALE_HOLD_MS) } },
    take: 100,
  });
  for (const r of stale) {
    const hold = { requestId: r.id, sessionId: r.sessionId, heldSats: r.heldSats, poolReservedSats: r.poolReservedSats };
    await reconcile(app, hold, { status: 'FAILED', model: r.model, work: { promptTokens: 0, completionTokens: 0 }, error: 'Abandoned' });
  }
}
