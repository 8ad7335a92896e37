/**
 * What a chat turn announces, on the topic of its thread and/or its session. Payloads hold ids and
 * text only (they may cross Redis); subscribers load messages by id. The `type` names the GraphQL
 * object each event becomes.
 */
export type ChatEvent =
  | { type: 'MessageAdded'; messageId: string }
  | { type: 'AssistantDelta'; messageId: string; delta: string; index: number }
  | { type: 'AssistantDone'; messageId: string }
  | { type: 'AssistantFailed'; messageId: string; error: string; reason: 'CANCELLED' | 'PROVIDER_ERROR' };

/**
 * `session:event` carries ChatEvent plus whatever the prepaid domain (issue 5) adds: its payloads
 * must have a `type` other than the ChatEvent ones.
 */
export type SessionEvent = ChatEvent | { type: string; [key: string]: unknown };

export type ChatTopics = {
  'thread:event': [threadId: string, event: ChatEvent];
  'session:event': [sessionId: string, event: SessionEvent];
  /** A cancel asked on one instance for a generation running on another (Redis). */
  'chat:cancel': [payload: { messageId: string }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends ChatTopics {}
}
