import { DIRECT, type DirectSource } from './pubsub.ts';

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
    // A pub/sub subscription hands its events straight over: no loop waiting on a promise per source.
    if (typeof (it as Partial<DirectSource<S>>)[DIRECT] === 'function') {
      (it as unknown as DirectSource<S>)[DIRECT](
        (event) => {
          if (!this.ended) onEvent(event);
        },
        () => this.end(),
      );
      return;
    }
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

  /**
   * Ends AND drops what is still pending: the viewer lost access, so events queued before that was
   * known are not delivered either (end() would still hand them out).
   */
  revoke(): void {
    this.items = [];
    this.end();
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

/**
 * Something to run now and then for each of many long-lived streams (a re-check of access), on ONE timer:
 * each registration lands in a random slot of a wheel of `slots` slots turning once per `periodMs`, so it
 * runs once per period, and registrations made together are spread over the period instead of running
 * together. Starts its timer with the first registration and stops it with the last. `add` returns the
 * function that removes the registration.
 */
export function recheckWheel(periodMs: number, slots = 60) {
  const wheel: Set<() => void>[] = Array.from({ length: slots }, () => new Set());
  let size = 0;
  let turn = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const slot = wheel[turn];
    turn = (turn + 1) % slots;
    for (const fn of slot) {
      try {
        fn();
      } catch {
        // one stream's failure is its own
      }
    }
  };
  return {
    add(fn: () => void): () => void {
      const slot = wheel[Math.floor(Math.random() * slots)];
      slot.add(fn);
      if (size++ === 0) {
        timer = setInterval(tick, periodMs / slots);
        timer.unref();
      }
      return () => {
        if (!slot.delete(fn)) return;
        if (--size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
