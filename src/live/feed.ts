/**
 * The feed: the one per-subscriber mechanism that every subscription is built on.
 *
 * A module describes its subscription once, in `openFeed`'s setup: which topics it listens to and what each
 * event does (`push` an item, skip it, `stop` or `end` the stream), and optionally a `start` step that runs
 * before anything live is handled (replay from a cursor, the current state first). The feed
 *   - listens from the moment it is opened, so nothing published while `start` runs is missed: those events
 *     wait in its one bounded buffer (the oldest dropped beyond SUBSCRIBER_BUFFER), then are handled in order;
 *   - handles events one at a time, in order: a handler may hand an async step to `later` (refill a gap from
 *     the database, map an event to a fresh state) and the events after it wait for that step;
 *   - re-checks its subscriber's access on access-change events and the shared timer (`guard`, which
 *     authorizedSubscribe attaches), and ends with FORBIDDEN when access is gone;
 *   - hands its items to ONE consumer: a socket's delivery (src/live/socket.ts: executed once per group of
 *     equivalent subscribers and written to each socket in one loop) with no promise per item, or, pulled as an
 *     async iterator, graphql-js's own mapping (subscriptions over HTTP, server-sent events).
 */
import { GraphQLError } from 'graphql';
import { accessEpoch, accessLost, watchAccess, type WatchedSubjects } from './access.ts';
import { SUBSCRIBER_BUFFER, type AppPubSub, type KeyedTopic, type PayloadOf, type PlainTopic } from './bus.ts';
import { recheckWheel } from './wheel.ts';

/** Where a feed's items go when a socket consumes it (src/live/socket.ts). Called synchronously, in order. */
export interface FeedSink<T> {
  item(item: T): void;
  /** No more items; what was pushed is still delivered. */
  complete(): void;
  /** Ends with this error; what is still pending is dropped. */
  error(error: GraphQLError): void;
}

/** What a module's setup uses to describe its subscription. */
export interface FeedControl<T> {
  /** Hears the topic (of `id`, for a keyed topic) from now on; the handler runs in order with the feed's other steps. */
  listen<K extends KeyedTopic>(topic: K, id: string, handler: (payload: PayloadOf<K>) => void): void;
  listen<K extends PlainTopic>(topic: K, handler: (payload: PayloadOf<K>) => void): void;
  /** Delivers an item. */
  push(item: T): void;
  /** Runs an async step; events arriving meanwhile wait for it, in order. A step that throws ends the feed with an error. */
  later(step: () => Promise<void>): void;
  /** Ends after what was pushed. */
  end(): void;
  /** Ends at once, dropping what is pending: the subscriber may no longer see it. The stream completes. */
  stop(): void;
  /** Ends at once with an error, dropping what is pending. */
  fail(error: GraphQLError): void;
}

export interface GuardOptions {
  pubsub: AppPubSub;
  /** Whose changes concern this feed: the viewer's credentials, whose access it holds, and resources it watches. */
  subjects: WatchedSubjects;
  /** true while access holds; else the error the feed ends with. Runs with fresh loaders each time. */
  recheck(): Promise<true | GraphQLError>;
  /** accessEpoch() read before access was first checked: when events were heard since, it re-checks at once. */
  epoch: number;
}

/** Feeds re-check now and then in case an access event was lost on the way (Redis down): one timer for all. */
const rechecks = recheckWheel(60_000);

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * Opens a feed: `setup` registers its listeners (heard from now on) and may return the `start` step, run when
 * the feed's consumer arrives (a socket attaching, or the first `next()`).
 */
export function openFeed<T>(pubsub: AppPubSub, setup: (f: FeedControl<T>) => (() => Promise<void>) | void): Feed<T> {
  return new Feed<T>(pubsub, setup);
}

export class Feed<T> implements AsyncIterableIterator<T>, FeedControl<T> {
  /** Events (handler and payload) waiting while a step runs or before the feed starts. */
  private inbox: unknown[] = [];
  private busy = true;
  private started = false;
  private ended = false;
  private stops: (() => void)[] = [];
  private start?: () => Promise<void>;
  private sink?: FeedSink<T>;
  // Pull mode (no sink): items not yet taken, the pending next(), and how it ended.
  private out: T[] = [];
  private waiter?: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };
  private finished = false;
  private failure?: GraphQLError;
  private checking?: Promise<void>;

  constructor(
    private readonly pubsub: AppPubSub,
    setup: (f: FeedControl<T>) => (() => Promise<void>) | void,
  ) {
    try {
      this.start = setup(this) ?? undefined;
    } catch (err) {
      this.close();
      throw err;
    }
  }

  listen(topic: string, idOrHandler: string | ((p: any) => void), maybeHandler?: (p: any) => void): void {
    if (this.ended) return;
    const handler = (typeof idOrHandler === 'function' ? idOrHandler : maybeHandler)!;
    const receive = (payload: unknown) => this.receive(handler, payload);
    const listen = this.pubsub.listen as (t: string, a: unknown, b?: unknown) => () => void;
    this.stops.push(typeof idOrHandler === 'function' ? listen(topic, receive) : listen(topic, idOrHandler, receive));
  }

  /** Attaches the feed's one consumer and starts it: from now on items go to `sink`. */
  attach(sink: FeedSink<T>): void {
    if (this.finished) {
      // Ended before its consumer came (access lost at once): the consumer hears how.
      const failure = this.failure;
      this.failure = undefined;
      return failure ? sink.error(failure) : sink.complete();
    }
    this.sink = sink;
    this.begin();
  }

  /** Re-checks access on access changes and the shared timer; ends with FORBIDDEN once it is gone. */
  guard(opts: GuardOptions): void {
    if (this.ended) return;
    const recheck = () => {
      this.checking ??= opts
        .recheck()
        .then((result) => (result === true ? undefined : this.fail(accessLost(result))), () => undefined)
        .finally(() => (this.checking = undefined));
    };
    this.stops.push(
      watchAccess(opts.pubsub, opts.subjects, { changed: recheck, revoked: () => this.fail(accessLost(undefined, 'CREDENTIALS_REVOKED')) }),
      rechecks.add(recheck),
    );
    if (accessEpoch(opts.pubsub) !== opts.epoch) recheck();
  }

  push(item: T): void {
    if (this.finished) return;
    if (this.sink) return this.sink.item(item);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      return waiter.resolve({ done: false, value: item });
    }
    this.out.push(item);
    if (this.out.length > SUBSCRIBER_BUFFER) this.out.shift();
  }

  later(step: () => Promise<void>): void {
    if (this.ended) return;
    this.busy = true;
    step().then(
      () => {
        this.busy = false;
        this.drain();
      },
      (err: unknown) => this.fail(asGraphQLError(err)),
    );
  }

  end(): void {
    if (this.finished) return;
    this.close();
    this.finished = true;
    if (this.sink) return this.sink.complete();
    if (!this.out.length) this.wake(DONE);
  }

  stop(): void {
    if (this.finished) return;
    this.out = [];
    this.end();
  }

  fail(error: GraphQLError): void {
    if (this.finished) return;
    this.close();
    this.finished = true;
    this.out = [];
    if (this.sink) return this.sink.error(error);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter.reject(error);
    else this.failure = error;
  }

  /** Stops listening (the consumer went away, or the feed ended). Nothing more is delivered. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.inbox = [];
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  // Pull mode.
  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    this.begin();
    if (this.out.length) return Promise.resolve({ done: false, value: this.out.shift()! });
    if (this.failure) {
      const error = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    this.finished = true;
    this.out = [];
    this.wake(DONE);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  private wake(result: IteratorResult<T>) {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve(result);
  }

  private begin() {
    if (this.started) return;
    this.started = true;
    const start = this.start;
    this.start = undefined;
    if (start) {
      this.busy = false;
      this.later(start);
    } else {
      this.busy = false;
      this.drain();
    }
  }

  /** An event for `handler`: handled now when nothing is ahead of it, else queued in order. */
  private receive(handler: (p: unknown) => void, payload: unknown) {
    if (this.ended) return;
    if (this.busy || this.inbox.length) {
      this.inbox.push(handler, payload);
      // Beyond the bound the oldest event goes (streams with a cursor refill the gap from the database).
      if (this.inbox.length > 2 * SUBSCRIBER_BUFFER) this.inbox.splice(0, 2);
      return;
    }
    this.handle(handler, payload);
  }

  private handle(handler: (p: unknown) => void, payload: unknown) {
    try {
      handler(payload);
    } catch (err) {
      this.fail(asGraphQLError(err));
    }
  }

  private drain() {
    let i = 0;
    while (!this.busy && !this.ended && i < this.inbox.length) {
      const handler = this.inbox[i++] as (p: unknown) => void;
      const payload = this.inbox[i++];
      this.handle(handler, payload);
    }
    if (i) this.inbox = this.inbox.slice(i);
  }
}

/** A failure as a GraphQLError: kept when it is one, else wrapped (masked like any internal error before it reaches the client). */
export function asGraphQLError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const original = err instanceof Error ? err : new Error(String(err));
  return new GraphQLError(original.message, { originalError: original });
}

/**
 * A feed of one thing's state: the current state first, then each change mapped to what the subscriber
 * receives (null: nothing), with no gap (the topic is heard before the state is read); it ends after a
 * terminal value. Invoices and paid sessions use it.
 */
export function stateFeed<K extends KeyedTopic, T>(
  pubsub: AppPubSub,
  topic: K,
  id: string,
  opts: {
    current(): Promise<T>;
    map(event: PayloadOf<K>): T | null | Promise<T | null>;
    isTerminal(value: T): boolean;
  },
): Feed<T> {
  return openFeed<T>(pubsub, (f) => {
    const emit = (value: T | null) => {
      if (value === null) return;
      f.push(value);
      if (opts.isTerminal(value)) f.end();
    };
    f.listen(topic, id, (event) => {
      const mapped = opts.map(event);
      if (mapped instanceof Promise) f.later(async () => emit(await mapped));
      else emit(mapped);
    });
    return async () => emit(await opts.current());
  });
}

/** A feed of every event of one keyed topic, as published (or mapped per subscriber by `map`). */
export function topicFeed<K extends KeyedTopic, T = PayloadOf<K>>(pubsub: AppPubSub, topic: K, id: string, map?: (event: PayloadOf<K>) => T): Feed<T> {
  return openFeed<T>(pubsub, (f) => f.listen(topic, id, map ? (e) => f.push(map(e)) : (e) => f.push(e as unknown as T)));
}
