import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { badInput } from '../../errors.ts';
import { GenerationFailureReason, ThreadMessageConnection, ThreadMessageRef } from '../threads/thread-messages.schema.ts';
import { totalCountOf } from '../threads/total-count.ts';
import { checkThread } from '../threads/threads.access.ts';
import type { ChatTurnResult } from './chat.turn.ts';
import type { ThreadEvent } from './chat.topics.ts';
import type { Config } from '../../config.ts';
import { modelsOfPlan, type PlanName } from '../usage/plan-models.ts';
import { allowedModels, providerNameFor } from './providers/index.ts';
import { threadEventFeed } from './thread.stream.ts';
import * as threadChat from './threadchat.service.ts';

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

const SessionRef = builder.prismaNode('Session', {
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
    messages: t.relatedConnection(
      'messages',
      {
        cursor: 'id',
        totalCount: true,
        description: "The messages of this session only, oldest first (a thread's readers and the session's holder).",
        query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
      },
      ThreadMessageConnection,
    ),
  }),
});

/** The one connection of sessions (Thread.sessions). */
export const SessionConnection = builder.connectionObject(
  {
    type: SessionRef,
    name: 'SessionConnection',
    description: "A page of a thread's sessions.",
    fields: (t) => ({ totalCount: t.int({ description: 'How many sessions the list holds across all pages.', resolve: totalCountOf }) }),
  },
  { name: 'SessionEdge', description: 'A session in a page, with its cursor.' },
);

const loadMessage = (id: string) => db.message.findUniqueOrThrow({ where: { id } });
type Ev<T extends ThreadEvent['type']> = Extract<ThreadEvent, { type: T }>;

export const ThreadMessageAddedRef = builder.objectRef<Ev<'ThreadMessageAdded'>>('ThreadMessageAdded').implement({
  description: 'A message was stored (also every stored message replayed after `afterSeq`); an assistant reply arrives STREAMING, then as AssistantDelta events.',
  fields: (t) => ({ message: t.field({ type: ThreadMessageRef, description: 'The message as stored now.', resolve: (e) => loadMessage(e.messageId) }) }),
});
export const AssistantDeltaRef = builder.objectRef<Ev<'AssistantDelta'>>('AssistantDelta').implement({
  description: 'A piece of the reply being generated; pieces in `index` order concatenate to the stored message.',
  fields: (t) => ({
    messageId: t.id({ description: 'The global ID of the assistant message being generated.', resolve: (e) => encodeGlobalID('ThreadMessage', e.messageId) }),
    delta: t.exposeString('delta', { description: 'The text that follows what came before.' }),
    index: t.exposeInt('index', { description: 'The position of this piece in the reply: 0, 1, 2…' }),
  }),
});
export const AssistantDoneRef = builder.objectRef<Ev<'AssistantDone'>>('AssistantDone').implement({
  description: 'The reply is complete.',
  fields: (t) => ({ message: t.field({ type: ThreadMessageRef, description: 'The reply as stored, COMPLETE.', resolve: (e) => loadMessage(e.messageId) }) }),
});
export const AssistantFailedRef = builder.objectRef<Ev<'AssistantFailed'>>('AssistantFailed').implement({
  description: 'The reply failed or was cancelled; what was generated until then is kept.',
  fields: (t) => ({
    messageId: t.id({ description: 'The global ID of the assistant message.', resolve: (e) => encodeGlobalID('ThreadMessage', e.messageId) }),
    error: t.exposeString('error', { description: 'What went wrong, for people.' }),
    reason: t.expose('reason', { type: GenerationFailureReason, description: 'Why, for programs.' }),
    message: t.field({ type: ThreadMessageRef, description: 'The reply as stored, FAILED.', resolve: (e) => loadMessage(e.messageId) }),
  }),
});
/** The members of every chat event union (threads here; issue 5's session union reuses them). */
export const chatEventTypes = [ThreadMessageAddedRef, AssistantDeltaRef, AssistantDoneRef, AssistantFailedRef] as const;

const ThreadUpdatedRef = builder.objectRef<Ev<'ThreadUpdated'>>('ThreadUpdated').implement({
  description: 'The thread was renamed, archived, re-opened or given new metadata.',
  fields: (t) => ({
    thread: t.prismaField({ type: 'Thread', description: 'The thread as it is now.', resolve: (query, e) => db.thread.findUniqueOrThrow({ ...query, where: { id: e.threadId } }) }),
  }),
});
const ThreadDeletedRef = builder.objectRef<Ev<'ThreadDeleted'>>('ThreadDeleted').implement({
  description: 'The thread was deleted (itself or with its project): the last event of the subscription.',
  fields: (t) => ({
    threadId: t.id({ description: 'The global ID of the deleted thread: evict it from your cache.', resolve: (e) => encodeGlobalID('Thread', e.threadId) }),
  }),
});

const ThreadEventUnion = builder.unionType('ThreadEvent', {
  description: 'What happens in a thread: its messages, the reply being generated, and changes to the thread itself.',
  types: [...chatEventTypes, ThreadUpdatedRef, ThreadDeletedRef],
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
  description: 'Your message and the reply it got.',
  fields: (t) => ({
    userMessage: t.field({ type: ThreadMessageRef, description: 'Your message as stored.', resolve: (r) => r.userMessage }),
    assistantMessage: t.field({ type: ThreadMessageRef, description: 'The reply as it ended: COMPLETE, or FAILED.', resolve: (r) => r.assistantMessage }),
    deduplicated: t.exposeBoolean('deduplicated', { description: 'True when clientMsgId matched an earlier send: nothing new was generated.' }),
  }),
});

const SendThreadMessageInput = builder.inputType('SendThreadMessageInput', {
  description: 'A message to send to a thread for the model to answer.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: 'The thread (WRITE access needed, and an API key needs the CHAT scope; CONFLICT when it is archived).' }),
    content: t.string({ required: true, description: 'The text, 1 to 32,000 characters (BAD_USER_INPUT otherwise).' }),
    model: t.string({ description: 'The name of one of `models`; the default model when omitted (BAD_USER_INPUT for another).' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id does not send twice.' }),
    attachmentIds: t.idList({
      description:
        'Uploads (createUpload) to attach to your message, in this order: at most storage.max_per_message, each your own, of the thread’s org, uploaded and not attached elsewhere (BAD_USER_INPUT otherwise, and nothing is sent). Images go to vision models (models.vision) as images; other files, and images for other models, as a note naming them.',
    }),
  }),
});
const CancelGenerationInput = builder.inputType('CancelGenerationInput', {
  description: 'The reply to stop.',
  fields: (t) => ({
    messageId: t.id({ required: true, description: 'The assistant message being generated (WRITE access to its thread needed; NOT_FOUND for another kind of message).' }),
  }),
});

const modelOf = (config: Config, name: string) => ({ name, provider: providerNameFor(config, name), isDefault: name === config.models.default });

builder.prismaObjectField('Org', 'models', (t) =>
  t.field({
    type: [ModelRef],
    description:
      "The models this org's plan allows (`[plans.<plan>] models`, within the server's `models`), the default first. Naming another " +
      'is FORBIDDEN with `extensions.reason` MODEL_NOT_IN_PLAN. The default model may be missing here when the plan excludes it.',
    resolve: (org, _args, ctx) => modelsOfPlan(ctx.app.config, org.plan as PlanName).map((name) => modelOf(ctx.app.config, name)),
  }),
);

builder.queryFields((t) => ({
  models: t.field({
    type: [ModelRef],
    description: "The models this server allows (config `[models]`), the default first. An org's plan may allow fewer: `Org.models`.",
    resolve: (_root, _args, ctx) => allowedModels(ctx.app.config).map((name) => modelOf(ctx.app.config, name)),
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
    args: { input: t.arg({ type: SendThreadMessageInput, required: true, description: 'The thread and the message.' }) },
    resolve: (_root, { input }, ctx) => threadChat.sendThreadMessage(ctx, idOf(input.threadId, 'Thread', 'threadId'), input),
  }),
  cancelGeneration: t.field({
    type: ThreadMessageRef,
    description: 'Stops a reply being generated (it ends FAILED with reason CANCELLED) and returns it; a reply that has already ended is returned as it is.',
    args: { input: t.arg({ type: CancelGenerationInput, required: true, description: 'The reply.' }) },
    resolve: (_root, { input }, ctx) => threadChat.cancelGeneration(ctx, idOf(input.messageId, 'ThreadMessage', 'messageId')),
  }),
}));

builder.subscriptionFields((t) => ({
  threadEvents: t.field({
    type: ThreadEventUnion,
    description:
      'Everything that happens in a thread you may read. With `afterSeq`, every stored message after it comes first (as ThreadMessageAdded), then live events, with no gap and no duplicate. Ends after ThreadDeleted, or when you can no longer read the thread. NOT_FOUND for a thread you cannot see.',
    args: {
      threadId: t.arg.id({ required: true, description: 'The thread.' }),
      afterSeq: t.arg.int({ description: 'The `seq` of the last message you have: the stored messages after it are sent first (BAD_USER_INPUT below 0). Without it, only what happens from now on.' }),
    },
    subscribe: authorizedSubscribe<{ threadId: unknown; afterSeq?: number | null }, ThreadEvent>(
      (ctx, args) =>
        args.afterSeq != null && args.afterSeq < 0
          ? badInput('afterSeq: must be 0 or more', 'afterSeq')
          : checkThread(ctx, idOf(args.threadId, 'Thread', 'threadId'), 'READ'),
      (args, ctx) => threadEventFeed(ctx, idOf(args.threadId, 'Thread', 'threadId'), args.afterSeq),
    ),
    resolve: (event) => event,
  }),
}));
