/**
 * What a chat turn announces, on the topic of its thread and/or its session. Payloads hold ids and
 * text only (they may cross Redis); subscribers load messages by id. The `type` names the GraphQL
 * object each event becomes.
 */
export type ChatEvent =
  /** `seq`: the message's number in its thread (null for a standalone session's message). */
  | { type: 'ThreadMessageAdded'; messageId: string; seq: number | null }
  | { type: 'AssistantDelta'; messageId: string; delta: string; index: number }
  | { type: 'AssistantDone'; messageId: string }
  | { type: 'AssistantFailed'; messageId: string; error: string; reason: 'CANCELLED' | 'PROVIDER_ERROR' };

/**
 * `thread:event` carries the chat events plus what happens to the thread itself: it was changed (title, status,
 * metadata), or deleted (the last event of the thread's streams).
 */
export type ThreadEvent = ChatEvent | { type: 'ThreadUpdated'; threadId: string } | { type: 'ThreadDeleted'; threadId: string };

/**
 * `session:event` carries ChatEvent plus whatever the prepaid domain (issue 5) adds: its payloads
 * must have a `type` other than the ChatEvent ones.
 */
export type SessionEvent = ChatEvent | { type: string; [key: string]: unknown };

export type ChatTopics = {
  'thread:event': [threadId: string, event: ThreadEvent];
  'session:event': [sessionId: string, event: SessionEvent];
  /** A cancel asked on one instance for a generation running on another (Redis). */
  'chat:cancel': [payload: { messageId: string }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends ChatTopics {}
}
