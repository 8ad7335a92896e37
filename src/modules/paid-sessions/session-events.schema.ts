import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import { chatEventTypes, SessionState } from '../chat/chat.schema.ts';
import type { ChatEvent } from '../chat/chat.topics.ts';
import { stateFeed } from '../../live/feed.ts';
import { checkSessionAccess } from './paid-sessions.service.ts';
import { CostBreakdownRef } from './session-requests.schema.ts';
import type { CostDebitedPayload, SessionStatePayload } from './paid-sessions.topics.ts';

type StateEvent = SessionStatePayload & { sessionId: string };
type CostEvent = CostDebitedPayload & { sessionId: string };
type SessionEvent = StateEvent | CostEvent | ChatEvent;

const SessionStateChanged = builder.objectRef<StateEvent>('SessionStateChanged').implement({
  description: "The session's state, balance or expiry changed; `session` shows it as of this change.",
  fields: (t) => ({
    state: t.field({ type: SessionState, description: 'The state as of this change.', resolve: (e) => e.state }),
    balanceSats: t.exposeInt('balanceSats', { description: 'The balance as of this change.' }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the session expires unless used or topped up, as of this change.',
      resolve: (e) => e.expiresAt,
    }),
    session: t.prismaField({
      type: 'Session',
      description: 'The session, with its state, balance and expiry as of this change.',
      resolve: async (query, e) => {
        const s = await db.session.findUnique({ ...query, where: { id: e.sessionId } });
        if (!s) throw notFound('Session');
        return { ...s, state: e.state, balanceSats: e.balanceSats, expiresAt: e.expiresAt ? new Date(e.expiresAt) : null };
      },
    }),
  }),
});

const CostDebited = builder.objectRef<CostEvent>('CostDebited').implement({
  description: 'A request on the session was priced and paid for.',
  fields: (t) => ({
    requestId: t.id({ description: 'Global ID of the SessionRequest that was paid for.', resolve: (e) => encodeGlobalID('SessionRequest', e.requestId) }),
    chargedSats: t.exposeInt('chargedSats', { description: 'Debited from the balance (after any free-tier share).' }),
    balanceAfterSats: t.exposeInt('balanceAfterSats', { description: 'The balance once this debit was made.' }),
    breakdown: t.field({ type: CostBreakdownRef, description: 'How the cost was reached.', resolve: (e) => e.breakdown }),
    request: t.prismaField({
      type: 'SessionRequest',
      description: 'The request that was paid for, as stored now.',
      resolve: (query, e) => db.sessionRequest.findUniqueOrThrow({ ...query, where: { id: e.requestId } }),
    }),
  }),
});

const SessionEventUnion = builder.unionType('SessionEvent', {
  description: 'State changes and debits of a session; for a standalone session also its chat events.',
  types: [SessionStateChanged, CostDebited, ...chatEventTypes],
  resolveType: (e: SessionEvent) => e.type,
});

const stateOf = (s: Session): StateEvent => ({
  type: 'SessionStateChanged',
  sessionId: s.id,
  state: s.state,
  balanceSats: s.balanceSats,
  expiresAt: s.expiresAt?.toISOString() ?? null,
});

const CHAT_TYPES = new Set(['ThreadMessageAdded', 'AssistantDelta', 'AssistantDone', 'AssistantFailed']);

builder.subscriptionFields((t) => ({
  sessionEvents: t.field({
    type: SessionEventUnion,
    description:
      'The session now (SessionStateChanged), then its changes and debits, and for a standalone session its chat events; ' +
      "ends when it expires or closes. For the session's owner and the holder of its token; to anyone else it is NOT_FOUND.",
    args: { sessionId: t.arg.id({ required: true, description: 'The prepaid session to watch.' }) },
    subscribe: authorizedSubscribe<{ sessionId: unknown }, SessionEvent>(
      (ctx, args) => checkSessionAccess(ctx, idOf(args.sessionId, 'Session', 'sessionId')),
      async (args, ctx) => {
        const id = idOf(args.sessionId, 'Session', 'sessionId');
        // A thread's session streams its messages on threadEvents; only a standalone one streams them here.
        const { threadId } = await db.session.findUniqueOrThrow({ where: { id }, select: { threadId: true } });
        return stateFeed<'session:event', SessionEvent>(ctx.app.pubsub, 'session:event', id, {
          current: async () => stateOf(await db.session.findUniqueOrThrow({ where: { id } })),
          map: (e) => {
            if (CHAT_TYPES.has(e.type)) return threadId ? null : (e as ChatEvent);
            if (e.type === 'SessionStateChanged' || e.type === 'CostDebited') return { ...(e as unknown as SessionStatePayload | CostDebitedPayload), sessionId: id };
            return null;
          },
          isTerminal: (e) => e.type === 'SessionStateChanged' && (e.state === 'EXPIRED' || e.state === 'CLOSED'),
        });
      },
    ),
    resolve: (e) => e,
  }),
}));
