import type { ChatEvent } from './chat.topics.ts';

/** Least time between two AssistantDelta events of one reply. */
export const DELTA_INTERVAL_MS = 20;

/**
 * Publishes a reply's text as AssistantDelta events, at most one per DELTA_INTERVAL_MS: text that
 * arrives sooner waits (a timer sends it) and goes out joined with what follows. A provider that
 * streams slower than that is passed on piece by piece; a fast one (echo without delay, a local
 * model) cannot flood subscribers, whose event queues are bounded (graphql-yoga's repeaters hold
 * 1024 pending events; overflowing one takes the server down).
 */
export function deltaPublisher(messageId: string, publish: (event: ChatEvent) => void) {
  let pending = '';
  let index = 0;
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    publish({ type: 'AssistantDelta', messageId, delta: pending, index: index++ });
    pending = '';
    last = Date.now();
  };
  return {
    push(delta: string) {
      pending += delta;
      const wait = last + DELTA_INTERVAL_MS - Date.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    /** Sends what is left; call before AssistantDone/AssistantFailed. */
    flush,
  };
}
