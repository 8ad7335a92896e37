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
  sats: number;
  balanceAfter: number;
  breakdown: unknown;
}

/** A chat event of a standalone session (MessageAdded, AssistantDelta, …), passed through as the chat domain shaped it. */
export interface SessionChatPayload {
  type: 'Chat';
  event: { __typename: string } & Record<string, unknown>;
}

export type SessionEventPayload = SessionStatePayload | CostDebitedPayload | SessionChatPayload;

/** What the prepaid-sessions domain announces, per session. */
export type PaidSessionTopics = {
  'session:events': [sessionId: string, payload: SessionEventPayload];
};
