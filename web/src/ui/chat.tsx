import { useState } from 'preact/hooks';
import { graphql } from '../gql';
import type { WebChatMessageFragment } from '../gql/graphql';

graphql(`
  fragment WebChatMessage on ThreadMessage { id seq role status content error model }
`);

/** The events that threads and paid sessions share (`threadEvents`, `sessionEvents`). */
export type ChatEvent =
  | { __typename: 'ThreadMessageAdded'; message: WebChatMessageFragment }
  | { __typename: 'AssistantDelta'; messageId: string; delta: string; index: number }
  | { __typename: 'AssistantDone'; message: WebChatMessageFragment }
  | { __typename: 'AssistantFailed'; messageId: string; message: WebChatMessageFragment };

interface State {
  order: string[];
  byId: Record<string, WebChatMessageFragment>;
  /** Next delta index expected per streaming message (a delta seen twice is not appended twice). */
  nextIndex: Record<string, number>;
}

/**
 * Messages of a conversation with the assistant's reply growing delta by delta; the final
 * AssistantDone/Failed message replaces the streamed text with what was stored.
 */
export function useChat(initial: WebChatMessageFragment[]) {
  const [state, setState] = useState<State>(() => ({
    order: initial.map((m) => m.id),
    byId: Object.fromEntries(initial.map((m) => [m.id, m])),
    nextIndex: {},
  }));
  const put = (s: State, m: WebChatMessageFragment): State => ({
    ...s,
    order: s.byId[m.id] ? s.order : [...s.order, m.id],
    byId: { ...s.byId, [m.id]: m },
  });
  function apply(e: ChatEvent | { __typename: string }) {
    setState((s) => {
      const ev = e as ChatEvent;
      switch (ev.__typename) {
        case 'ThreadMessageAdded':
          // Deltas may have arrived before the message itself; keep the longer text.
          return put(s, s.byId[ev.message.id]?.content.length > ev.message.content.length ? { ...ev.message, content: s.byId[ev.message.id].content } : ev.message);
        case 'AssistantDelta': {
          const expected = s.nextIndex[ev.messageId] ?? 0;
          if (ev.index < expected) return s;
          const m = s.byId[ev.messageId] ?? { id: ev.messageId, seq: null, role: 'ASSISTANT', status: 'STREAMING', content: '', error: null, model: null };
          return { ...put(s, { ...m, content: m.content + ev.delta }), nextIndex: { ...s.nextIndex, [ev.messageId]: ev.index + 1 } };
        }
        case 'AssistantDone':
        case 'AssistantFailed':
          return put(s, ev.message);
        default:
          return s;
      }
    });
  }
  const messages = state.order.map((id) => state.byId[id]);
  const streaming = messages.find((m) => m.role === 'ASSISTANT' && (m.status === 'STREAMING' || m.status === 'PENDING'));
  return { messages, streaming, apply, add: (m: WebChatMessageFragment) => setState((s) => put(s, m)) };
}

/** The conversation, as a live log. */
export function ChatLog({ messages }: { messages: WebChatMessageFragment[] }) {
  return (
    <div class="messages" role="log" aria-label="Conversation" aria-live="polite">
      <ol>
      {messages.map((m) => (
        <li class={`chat ${m.role.toLowerCase()}`} data-status={m.status} data-id={m.id}>
          <div class="meta">
            <strong>{m.role === 'USER' ? 'You' : m.role === 'ASSISTANT' ? 'Assistant' : m.role}</strong>
            {m.status === 'STREAMING' && <small aria-label="streaming"> ●</small>}
            {m.status === 'FAILED' && <small> (stopped: {m.error})</small>}
          </div>
          <p class="content">{m.content}</p>
        </li>
      ))}
    </ol>
      </div>
  );
}
