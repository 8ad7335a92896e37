import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { checkThread } from '../threads/threads.access.ts';
import type { ChatTurnResult } from './chat.turn.ts';
import type { ChatEvent } from './chat.topics.ts';
import { allowedModels, providerNameFor } from './providers/index.ts';
import { threadEventFeed } from './thread.stream.ts';
import * as threadChat from './threadchat.service.ts';

export const MessageRole = builder.enumType('MessageRole', { values: ['USER', 'ASSISTANT', 'SYSTEM', 'TOOL'] as const });
export const MessageStatus = builder.enumType('MessageStatus', {
  description: 'COMPLETE once stored whole; an assistant reply is STREAMING while generated and FAILED if it failed or was cancelled.',
  values: ['PENDING', 'STREAMING', 'COMPLETE', 'FAILED', 'CANCELLED'] as const,
});
/** Shared with prepaid sessions (issue 5), which add their fields to `Session` with prismaObjectField. */
export const SessionState = builder.enumType('SessionState', {
  description: 'Where a session stands; EXPIRED and CLOSED are final.',
  values: {
    AWAITING_PAYMENT: { description: 'A prepaid session whose deposit has not been paid yet.' },
    ACTIVE: { description: 'Open for messages.' },
    PAUSED: { description: 'A prepaid session whose balance fell below the minimum; a top-up resumes it.' },
    EXPIRED: { description: 'A prepaid session unused (or unpaid) until its expiry.' },
    CLOSED: { description: "Ended: replaced by the thread's next session." },
  } as const,
});

export const MessageRef = builder.prismaNode('Message', {
  id: { field: 'id' },
  fields: (t) => ({
    role: t.expose('role', { type: MessageRole }),
    status: t.expose('status', { type: MessageStatus }),
    content: t.exposeString('content'),
    model: t.exposeString('model', { nullable: true }),
    clientMsgId: t.exposeString('clientMsgId', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    error: t.exposeString('error', { nullable: true, description: 'Why the reply failed (FAILED only).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    author: t.relation('author', { nullable: true }),
    thread: t.relation('thread', { nullable: true }),
    session: t.relation('session'),
  }),
});

builder.prismaNode('Session', {
  id: { field: 'id', description: 'Global ID of the session (`session(id)`, `sessionEvents(sessionId)`).' },
  description:
    "A conversation's context window: a thread's current or earlier session, or a standalone prepaid session paid with " +
    'Lightning. Prepaid sessions are for their owner and the holder of their token.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: "1 for a thread's first session, then 2, 3… as it rotates." }),
    state: t.expose('state', { type: SessionState, description: 'Where the session stands.' }),
    summary: t.exposeString('summary', { nullable: true, description: 'Carried over from the previous session.' }),
    historyTokens: t.exposeInt('historyTokens', { description: 'Tokens of the history the model is sent with each message.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When a prepaid session expires unless used; null for others.' }),
    closedAt: t.expose('closedAt', { type: 'DateTime', nullable: true, description: 'When the session was CLOSED; null while it is not.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the session was opened.' }),
    thread: t.relation('thread', { nullable: true, description: 'The thread it belongs to; null for a standalone session (and to a session token).' }),
    messages: t.relatedConnection('messages', {
      cursor: 'id',
      description: "The messages of this session only, oldest first (a thread's readers and the session's holder).",
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
  }),
});

const loadMessage = (id: string) => db.message.findUniqueOrThrow({ where: { id } });
type Ev<T extends ChatEvent['type']> = Extract<ChatEvent, { type: T }>;

export const MessageAddedRef = builder.objectRef<Ev<'MessageAdded'>>('MessageAdded').implement({
  fields: (t) => ({ message: t.field({ type: MessageRef, resolve: (e) => loadMessage(e.messageId) }) }),
});
export const AssistantDeltaRef = builder.objectRef<Ev<'AssistantDelta'>>('AssistantDelta').implement({
  description: 'A piece of the reply being generated; pieces in `index` order concatenate to the stored message.',
  fields: (t) => ({
    messageId: t.id({ resolve: (e) => encodeGlobalID('Message', e.messageId) }),
    delta: t.exposeString('delta'),
    index: t.exposeInt('index'),
  }),
});
export const AssistantDoneRef = builder.objectRef<Ev<'AssistantDone'>>('AssistantDone').implement({
  fields: (t) => ({ message: t.field({ type: MessageRef, resolve: (e) => loadMessage(e.messageId) }) }),
});
const FailureReason = builder.enumType('GenerationFailureReason', { values: ['CANCELLED', 'PROVIDER_ERROR'] as const });
export const AssistantFailedRef = builder.objectRef<Ev<'AssistantFailed'>>('AssistantFailed').implement({
  fields: (t) => ({
    messageId: t.id({ resolve: (e) => encodeGlobalID('Message', e.messageId) }),
    error: t.exposeString('error'),
    reason: t.expose('reason', { type: FailureReason }),
    message: t.field({ type: MessageRef, resolve: (e) => loadMessage(e.messageId) }),
  }),
});
/** The members of every chat event union (threads here; issue 5's session union reuses them). */
export const chatEventTypes = [MessageAddedRef, AssistantDeltaRef, AssistantDoneRef, AssistantFailedRef] as const;

const ThreadEvent = builder.unionType('ThreadEvent', {
  types: [...chatEventTypes],
  resolveType: (e) => e.type,
});

const ModelRef = builder.objectRef<{ name: string; provider: string; isDefault: boolean }>('Model').implement({
  description: 'An AI model this server allows.',
  fields: (t) => ({
    id: t.id({ description: 'Global ID of the model, derived from its name.', resolve: (m) => encodeGlobalID('Model', m.name) }),
    name: t.exposeString('name', { description: 'What `model` arguments take (`gpt-4o-mini`, `echo`).' }),
    provider: t.exposeString('provider', { description: 'The provider that serves it (`openai`, `anthropic`, `echo`, …).' }),
    isDefault: t.exposeBoolean('isDefault', { description: 'Used when a message names no model.' }),
  }),
});

const SendThreadMessagePayload = builder.objectRef<ChatTurnResult>('SendThreadMessagePayload').implement({
  fields: (t) => ({
    userMessage: t.field({ type: MessageRef, resolve: (r) => r.userMessage }),
    assistantMessage: t.field({ type: MessageRef, resolve: (r) => r.assistantMessage }),
    deduplicated: t.exposeBoolean('deduplicated', { description: 'True when clientMsgId matched an earlier send: nothing new was generated.' }),
  }),
});

const SendThreadMessageInput = builder.inputType('SendThreadMessageInput', {
  fields: (t) => ({
    threadId: t.id({ required: true }),
    content: t.string({ required: true }),
    model: t.string({ description: 'One of `models`; the default model when omitted.' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id does not send twice.' }),
  }),
});
const CancelGenerationInput = builder.inputType('CancelGenerationInput', {
  fields: (t) => ({ messageId: t.id({ required: true, description: 'The assistant message being generated.' }) }),
});

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    description: 'The models this server allows (config `[models]`), the default first.',
    resolve: (_root, _args, ctx) =>
      allowedModels(ctx.app.config).map((name) => ({ name, provider: providerNameFor(ctx.app.config, name), isDefault: name === ctx.app.config.models.default })),
  }),
  session: t.prismaField({
    type: 'Session',
    nullable: true,
    description:
      "A session by ID: a thread's session for those who may read the thread, a prepaid one for its owner and token " +
      'holder. Missing or hidden, it is null with a NOT_FOUND error (the two look the same).',
    args: { id: t.arg.id({ required: true, description: 'The session to read.' }) },
    resolve: async (query, _root, args) =>
      (await db.session.findUnique({ ...query, where: { id: idOf(args.id, 'Session') } })) ?? Promise.reject(notFound('Session')),
  }),
}));

builder.mutationFields((t) => ({
  sendThreadMessage: t.field({
    type: SendThreadMessagePayload,
    description: 'Stores your message, streams the reply on threadEvents, and returns both once the reply has ended.',
    args: { input: t.arg({ type: SendThreadMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => threadChat.sendThreadMessage(ctx, idOf(input.threadId, 'Thread', 'threadId'), input),
  }),
  cancelGeneration: t.field({
    type: MessageRef,
    args: { input: t.arg({ type: CancelGenerationInput, required: true }) },
    resolve: (_root, { input }, ctx) => threadChat.cancelGeneration(ctx, idOf(input.messageId, 'Message', 'messageId')),
  }),
}));

builder.subscriptionFields((t) => ({
  threadEvents: t.field({
    type: ThreadEvent,
    args: { threadId: t.arg.id({ required: true }) },
    subscribe: authorizedSubscribe<{ threadId: unknown }, ChatEvent>(
      (ctx, args) => checkThread(ctx, idOf(args.threadId, 'Thread', 'threadId'), 'READ'),
      (args, ctx) => threadEventFeed(ctx, idOf(args.threadId, 'Thread', 'threadId')),
    ),
    resolve: (event) => event,
  }),
}));
