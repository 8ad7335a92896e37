import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import type { ToolLogEntry } from '../chat/chat.tools.ts';
import { totalCountOf } from './total-count.ts';
import { appendThreadMessage, type AppendResult } from './thread-messages.service.ts';

export const ThreadMessageRole = builder.enumType('ThreadMessageRole', {
  description: 'Who a thread message is from.',
  values: {
    USER: { description: 'A person (or an API key acting for one): `author` says who.' },
    ASSISTANT: { description: 'The model’s reply.' },
    SYSTEM: { description: 'An instruction stored by a client for the model.' },
    TOOL: { description: 'The result of a tool the model called.' },
  },
});
export const ThreadMessageStatus = builder.enumType('ThreadMessageStatus', {
  description: 'Where a message is in its life: COMPLETE once stored whole; an assistant reply is STREAMING while generated and FAILED if it failed or was cancelled.',
  values: {
    PENDING: { description: 'Stored, not yet being generated.' },
    STREAMING: { description: 'An assistant reply being generated: its text arrives as AssistantDelta events.' },
    COMPLETE: { description: 'Stored whole.' },
    FAILED: { description: 'The reply failed or was cancelled; `error` says why.' },
    CANCELLED: { description: 'The reply was cancelled before it began.' },
  },
});

export const GenerationFailureReason = builder.enumType('GenerationFailureReason', {
  description: 'Why a reply failed.',
  values: {
    CANCELLED: { description: 'Someone cancelled it (cancelGeneration).' },
    PROVIDER_ERROR: { description: 'The model provider failed or could not be reached.' },
  },
});

/** What generation stores in a reply's metadata column (chat.generate.ts): Confab's, so typed fields show it. */
type GeneratedMeta = { toolCalls?: ToolLogEntry[]; reason?: 'CANCELLED' | 'PROVIDER_ERROR' };
/** A reply Confab generated has its model set; a message stored as given (appendThreadMessage, firstMessage) has none. */
const generated = (m: Message) => m.role === 'ASSISTANT' && m.model !== null;
const generatedMeta = (m: Message) => (m.metadata ?? {}) as GeneratedMeta;

const ToolCallRef = builder.objectRef<ToolLogEntry & { key: string }>('ThreadMessageToolCall').implement({
  description: 'A tool the model called while writing a reply (the thread tools, such as reading a KV key).',
  fields: (t) => ({
    id: t.id({ description: 'A global ID of the call: its reply and its place among the reply’s calls.', resolve: (c) => encodeGlobalID('ThreadMessageToolCall', c.key) }),
    name: t.exposeString('name', { description: 'The tool.' }),
    arguments: t.field({ type: 'JSON', nullable: true, description: "The arguments the model passed, as the tool's schema shapes them.", resolve: (c) => c.arguments ?? null }),
    error: t.string({ nullable: true, description: 'Why the call failed; null when it succeeded.', resolve: (c) => c.error ?? null }),
  }),
});

export const ThreadMessageRef = builder.prismaNode('Message', {
  name: 'ThreadMessage',
  description: 'A message of a thread: yours, another member’s, or the model’s reply (also a standalone session’s messages).',
  id: { field: 'id', description: 'The global ID of the message.' },
  fields: (t) => ({
    seq: t.exposeInt('seq', {
      nullable: true,
      description: "The message's number in its thread (1, 2, 3… in the order they were stored): pass the last one you saw as threadEvents(afterSeq). Null for a standalone session's messages.",
    }),
    role: t.expose('role', { type: ThreadMessageRole, description: 'Who the message is from.' }),
    status: t.expose('status', { type: ThreadMessageStatus, description: 'COMPLETE, or where a reply being generated is.' }),
    content: t.exposeString('content', { description: 'The text; while STREAMING, what has been generated so far.' }),
    model: t.exposeString('model', { nullable: true, description: 'The model that wrote an assistant reply; null for other messages.' }),
    clientMsgId: t.exposeString('clientMsgId', { nullable: true, description: 'The id the sender gave the message to make retries safe, if any.' }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens of the prompt sent to the model (an assistant reply), or of the message itself (a user message).' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the model generated for an assistant reply; 0 for other messages.' }),
    metadata: t.field({
      type: 'JSON',
      nullable: true,
      description: "The sender's own data stored with the message (at most 16,000 characters of JSON); null when none was given, and on a reply Confab generated.",
      resolve: (m) => (generated(m) ? null : m.metadata),
    }),
    toolCalls: t.field({
      type: [ToolCallRef],
      description: 'The tools the model called while writing this reply, in order; empty for other messages.',
      resolve: (m) => (generated(m) ? (generatedMeta(m).toolCalls ?? []).map((c, i) => ({ ...c, key: `${m.id}:${i}` })) : []),
    }),
    failureReason: t.field({
      type: GenerationFailureReason,
      nullable: true,
      description: 'Why a reply Confab generated FAILED; null otherwise.',
      resolve: (m) => (generated(m) && m.status === 'FAILED' ? (generatedMeta(m).reason ?? 'PROVIDER_ERROR') : null),
    }),
    error: t.exposeString('error', { nullable: true, description: 'Why the reply failed (FAILED only).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the message was stored.' }),
    author: t.relation('author', { nullable: true, description: 'Who sent it; null for the assistant, and for a message whose author was deleted.' }),
    thread: t.relation('thread', {
      nullable: true,
      description: "The thread; null for a standalone session's messages. NOT_FOUND to a session token, which opens its session only.",
    }),
    session: t.relation('session', { description: 'The session of the thread that holds the message (a thread rotates sessions as its history grows).' }),
  }),
});

/** The one connection of thread messages (Thread.messages, Session.messages). */
export const ThreadMessageConnection = builder.connectionObject(
  {
    type: ThreadMessageRef,
    name: 'ThreadMessageConnection',
    description: 'A page of thread messages, oldest first.',
    fields: (t) => ({ totalCount: t.int({ description: 'How many messages the list holds across all pages.', resolve: totalCountOf }) }),
  },
  { name: 'ThreadMessageEdge', description: 'A thread message in a page, with its cursor.' },
);

export const AppendThreadMessageRole = builder.enumType('AppendThreadMessageRole', {
  description: 'Roles a client may store as-is (TOOL messages come only from the model side).',
  values: {
    USER: { description: "A person's message (the default)." },
    ASSISTANT: { description: 'A reply your own model wrote.' },
    SYSTEM: { description: 'An instruction for the model.' },
  },
});

/** A message stored as given: createThread's `firstMessage`. */
export const FirstMessageInput = builder.inputType('FirstMessageInput', {
  description: 'The first message of a new thread, stored as given (no reply is generated).',
  fields: (t) => ({
    role: t.field({ type: AppendThreadMessageRole, defaultValue: 'USER', description: 'Who the message is from; USER when left out.' }),
    content: t.string({ required: true, description: 'The text, 1 to 32,000 characters (BAD_USER_INPUT otherwise).' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data, stored with the message (at most 16,000 characters of JSON).' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id stores it once.' }),
  }),
});

const AppendThreadMessageInput = builder.inputType('AppendThreadMessageInput', {
  description: 'A message to store as given in a thread.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: 'The thread (WRITE access needed; NOT_FOUND when you cannot see it).' }),
    role: t.field({ type: AppendThreadMessageRole, required: true, description: 'Who the message is from.' }),
    content: t.string({ required: true, description: 'The text, 1 to 32,000 characters (BAD_USER_INPUT otherwise).' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data, stored with the message (at most 16,000 characters of JSON).' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id stores it once.' }),
  }),
});

const AppendThreadMessagePayload = builder.objectRef<AppendResult>('AppendThreadMessagePayload').implement({
  description: 'The stored message, and whether it had been stored before.',
  fields: (t) => ({
    message: t.field({ type: ThreadMessageRef, description: 'The message stored (or stored earlier with the same clientMsgId).', resolve: (r) => r.message }),
    deduplicated: t.exposeBoolean('deduplicated', { description: 'True when clientMsgId matched an earlier message: nothing new was stored.' }),
  }),
});

builder.mutationFields((t) => ({
  appendThreadMessage: t.field({
    type: AppendThreadMessagePayload,
    description:
      'Stores a message as given, without generating a reply (for clients that run their own model); announced on threadEvents as ThreadMessageAdded. CONFLICT when the thread is archived.',
    args: { input: t.arg({ type: AppendThreadMessageInput, required: true, description: 'The thread and the message.' }) },
    resolve: (_root, { input }, ctx) => appendThreadMessage(ctx, idOf(input.threadId, 'Thread', 'threadId'), input),
  }),
}));
