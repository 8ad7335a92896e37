import type { GraphQLError } from 'graphql';
import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, isAuthenticated, passes, ruleOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { notFound, unauthenticated } from '../../errors.ts';
import { checkThread } from '../threads/threads.access.ts';
import { threadRule } from '../threads/threads.permissions.ts';

/**
 * A session is read through its thread; a standalone (prepaid) session by its owner. Prepaid
 * sessions authorized by a session token are the prepaid domain's own (issue 5).
 */
export async function checkSession(ctx: Context, s: { id?: string; threadId: string | null; ownerId: string | null }, need: 'READ' | 'WRITE'): Promise<true | GraphQLError> {
  // A prepaid session's token opens that session (issue 5), never its thread.
  if (ctx.viewer.kind === 'session') return (need === 'READ' && s.id === ctx.viewer.sessionId) || notFound('Session');
  if (s.threadId) return checkThread(ctx, s.threadId, need, { chat: need === 'WRITE' });
  if (ctx.viewer.kind === 'anonymous') return unauthenticated();
  return (ctx.viewer.kind === 'user' && s.ownerId === ctx.viewer.userId) || notFound('Session');
}

async function checkMessage(ctx: Context, messageId: string, need: 'READ' | 'WRITE') {
  const m = await db.message.findUnique({ where: { id: messageId }, select: { session: { select: { threadId: true, ownerId: true } } } });
  return m ? checkSession(ctx, m.session, need) : notFound('Message');
}

/**
 * A session's content (its thread, messages and summary) is for those who may read the session. Its
 * state and balance are not: whoever pays one of its invoices reaches the session through
 * settleDevInvoice, and sees those only.
 */
const canReadSessionContent = ruleOf('canReadSessionContent', (ctx, _args, s) => checkSession(ctx, s, 'READ'), 'strict');

/** The session's thread: as its content, but never to a session token (it opens its session only). */
const canReadSessionThread = ruleOf(
  'canReadSessionThread',
  (ctx, _args, s: { threadId: string | null }) => !s.threadId || (ctx.viewer.kind === 'session' ? notFound('Thread') : checkSession(ctx, s as any, 'READ')),
  'strict',
);

/** A message's thread: not to a session token, which reaches the messages of its session only. */
const canReadMessageThread = ruleOf(
  'canReadMessageThread',
  (ctx, _args, m: { threadId: string | null }) => !m.threadId || ctx.viewer.kind !== 'session' || notFound('Thread'),
  'strict',
);

export const chatPermissions: DomainPermissions = {
  rules: {
    Query: {
      models: isAuthenticated,
      session: ruleOf('canReadSession', async (ctx, args) => {
        const s = await db.session.findUnique({ where: { id: idOf(args.id, 'Session') }, select: { id: true, threadId: true, ownerId: true } });
        return s ? checkSession(ctx, s, 'READ') : notFound('Session');
      }),
    },
    Mutation: {
      sendThreadMessage: threadRule('canChatInThread', 'WRITE', (a) => a.input.threadId, { chat: true }),
      cancelGeneration: ruleOf('canCancelGeneration', (ctx, args) => checkMessage(ctx, idOf(args.input.messageId, 'ThreadMessage', 'messageId'), 'WRITE')),
    },
    // Authorized in its subscribe function (shield cannot stop a subscription).
    Subscription: { threadEvents: isAuthenticated },
    ThreadMessage: { '*': allow, thread: canReadMessageThread },
    ThreadMessageToolCall: { '*': allow },
    Session: { '*': allow, thread: canReadSessionThread, messages: canReadSessionContent, summary: canReadSessionContent },
    Model: { '*': allow },
    ThreadMessageAdded: { '*': allow },
    ThreadUpdated: { '*': allow },
    ThreadDeleted: { '*': allow },
    AssistantDelta: { '*': allow },
    AssistantDone: { '*': allow },
    AssistantFailed: { '*': allow },
    SendThreadMessagePayload: { '*': allow },
  },
  nodes: {
    Session: (ctx, s) => passes(checkSession(ctx, s, 'READ')),
    ThreadMessage: (ctx, m: { id: string }) => passes(checkMessage(ctx, m.id, 'READ')),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: {
    Subscription: ['threadEvents'],
    ThreadMessageAdded: '*',
    AssistantDelta: '*',
    AssistantDone: '*',
    AssistantFailed: '*',
    ThreadUpdated: '*',
    ThreadDeleted: '*',
    ThreadMessage: ['id', 'seq', 'role', 'status', 'content', 'author', 'clientMsgId', 'model', 'promptTokens', 'completionTokens', 'error', 'metadata', 'toolCalls', 'failureReason', 'createdAt', 'session'],
    ThreadMessageToolCall: '*',
    // Not `project` (shown only to who can read the project) nor `relations` (filtered by the viewer's access).
    Thread: ['id', 'title', 'status', 'metadata', 'messageCount', 'createdAt', 'updatedAt', 'lastMessageAt', 'org', 'createdBy', 'firstMessage', 'lastMessage'],
  },
};
