import type { CostBreakdown } from './pricing.ts';

export type SessionStateName = 'AWAITING_PAYMENT' | 'ACTIVE' | 'PAUSED' | 'EXPIRED' | 'CLOSED';

/** A session's state, balance and expiry as of one change (ISO date, so it crosses Redis intact). */
export interface SessionStatePayload {
  type: 'SessionStateChanged';
  state: SessionStateName;
  balanceSats: number;
  expiresAt: string | null;
}

export interface CostDebitedPayload {
  type: 'CostDebited';
  requestId: string;
  chargedSats: number;
  balanceAfterSats: number;
  breakdown: CostBreakdown;
}

/**
 * What the prepaid domain announces on the chat domain's `session:event` topic (keyed by session id),
 * beside the chat events (MessageAdded, AssistantDelta, …) that turns of the session publish there.
 */
export type PaidSessionEvent = SessionStatePayload | CostDebitedPayload;
