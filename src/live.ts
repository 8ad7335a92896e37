/**
 * Helpers for subscriptions that merge several pub/sub streams, replay stored state first, and end
 * on their own (a member removed from a room). Closing the result closes every source.
 */

type Source = AsyncIterator<unknown> & { return?: (value?: unknown) => Promise<IteratorResult<unknown>> };

/** A buffer that sources push into and one consumer pulls from; `end()` wakes the consumer. */
export class LiveQueue<T> {
  private items: T[] = [];
  private waiter?: () => void;
  private sources: Source[] = [];
  ended = false;

  /** Starts pulling from `source` now (so events are buffered from this moment), mapping each event. */
  attach<S>(source: AsyncIterable<S>, onEvent: (event: S) => void): void {
    const it = source[Symbol.asyncIterator]() as Source;
    this.sources.push(it);
    const pump = async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done || this.ended) return;
          onEvent(r.value as S);
        }
      } catch {
        this.end();
      }
    };
    void pump();
  }

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The next item, or undefined once ended and drained. */
  async shift(): Promise<T | undefined> {
    while (!this.items.length && !this.ended) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.items.shift();
  }

  /** Stops every source (their pub/sub listeners go away). */
  async close(): Promise<void> {
    this.end();
    this.items = [];
    await Promise.allSettled(this.sources.map((s) => s.return?.()));
  }

  private wake() {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
