import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, passes, ruleOf } from '../../auth/rules.ts';
import { forbidden, unauthenticated } from '../../errors.ts';
import { checkThread } from '../threads/threads.access.ts';
import { canAccessSession, checkSessionAccess } from './paid-sessions.service.ts';

const inputSession = ruleOf('canUsePaidSession', (ctx, args) => checkSessionAccess(ctx, idOf(args.input.sessionId, 'Session', 'sessionId')));

/** Anyone but an API key may open a standalone session; attaching one to a thread takes a signed-in member. */
const canOpenPaidSession = ruleOf('canOpenPaidSession', async (ctx, args) => {
  if (ctx.viewer.kind === 'apiKey') return forbidden('Prepaid sessions are opened by people (signed in or anonymous), not API keys');
  if (args.input.threadId == null) return true;
  if (ctx.viewer.kind !== 'user') return unauthenticated('Sign in to attach a paid session to a thread');
  return checkThread(ctx, idOf(args.input.threadId, 'Thread', 'threadId'), 'WRITE', { chat: true });
});

/** Balances, invoices and requests are for the token holder and the owner, even when the thread's readers see the session. */
const isSessionHolder = ruleOf('isPaidSessionHolder', (ctx, _args, session) => canAccessSession(ctx, session) || forbidden(), 'strict');

export const paidSessionsPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      openPaidSession: canOpenPaidSession,
      topUpSession: inputSession,
      clearSessionHistory: inputSession,
      sendSessionMessage: inputSession,
      // Anyone may prove a Nostr key: a challenge costs the server nothing stored, an answer proves the key only.
      createNostrChallenge: allow,
      verifyNostrChallenge: allow,
    },
    Subscription: { sessionEvents: allow },
    // Session's other fields are the chat domain's ('*': allow); these are the holder's business only.
    Session: { invoices: isSessionHolder, pendingTopUp: isSessionHolder, requests: isSessionHolder },
    SessionRequest: { '*': allow },
    // A user's trust is their own business.
    Trust: { '*': allow },
    OpenPaidSessionPayload: { '*': allow },
    TopUpSessionPayload: { '*': allow },
    ClearSessionHistoryPayload: { '*': allow },
    SendSessionMessagePayload: { '*': allow },
    NostrChallenge: { '*': allow },
    NostrTokenPayload: { '*': allow },
    SessionStateChanged: { '*': allow },
    CostDebited: { '*': allow },
    // Read inside a CostDebited event or a SessionRequest, which are authorized themselves.
    CostBreakdown: { '*': allow },
    CostBreakdownPart: { '*': allow },
  },
  nodes: {
    Session: (ctx, session) => canAccessSession(ctx, session),
    SessionRequest: async (ctx, r: { sessionId: string }) => passes(checkSessionAccess(ctx, r.sessionId)),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: {
    Subscription: ['sessionEvents'],
    SessionStateChanged: '*',
    CostDebited: '*',
    CostBreakdown: '*',
    CostBreakdownPart: '*',
    SessionRequest: '*',
    Session: ['id', 'index', 'state', 'prepaid', 'balanceSats', 'minimumBalanceSats', 'historyTokens', 'createdAt', 'expiresAt', 'closedAt'],
  },
};
