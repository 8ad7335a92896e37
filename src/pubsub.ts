import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { setMaxListeners } from 'node:events';

/**
 * Every topic the server announces. Each domain's `*.topics.ts` adds its own to this interface by
 * declaration merging (`declare module '../../pubsub.ts'`), so the map is one and typed while this
 * file knows no domain. Topic names are `'<entity>:<event>'`; a topic keyed by id takes `[id, payload]`.
 * Payloads must survive JSON (with Redis they cross processes): ids, strings, numbers, ISO dates,
 * never Prisma objects with Dates that a subscriber treats as Date.
 */
export interface TopicRegistry {}

/** The registry as a plain object type, which yoga's PubSub accepts (an interface has no index signature). */
export type Topics = { [K in keyof TopicRegistry]: TopicRegistry[K] };

/** One publish as its publisher made it: the topic and the arguments after it (`[id, payload]` or `[payload]`). */
export type Published = { [K in keyof Topics]: { topic: K; args: Topics[K] } }[keyof Topics];

/** Sees each event this process publishes; it runs inside `publish`, so it must be quick and must not throw. */
export type LocalPublishListener = (event: Published) => void;

export type AppPubSub = PubSub<Topics> & {
  /**
   * Listens to events published by THIS process only, never to those arriving from other instances
   * through Redis: whatever acts once per event (webhooks) hears each exactly once across a cluster.
   * Returns the function that stops listening.
   */
  onLocalPublish(listener: LocalPublishListener): () => void;
};

export interface PubSubOptions {
  /**
   * Called once per event this process receives (not per subscriber), with the time since it was
   * published (metrics). Across instances this includes the clocks' difference.
   */
  onReceive?(topic: string, lagMs: number): void;
}

/** What travels on the event target: the payload and when it was published (for the lag metric). */
interface Envelope {
  '@at': number;
  '@p': unknown;
  /** Set on this process's copy once its lag was observed. */
  '@seen'?: boolean;
}
const isEnvelope = (v: unknown): v is Envelope => !!v && typeof v === 'object' && typeof (v as Envelope)['@at'] === 'number' && '@p' in v;

export interface PubSubHandle {
  pubsub: AppPubSub;
  /** The Redis connection for other shared state (rate limits, presence), when configured. */
  redis?: Redis;
  close(): Promise<void>;
}

/**
 * In memory for one process; through Redis when `redisUrl` is set, so that a subscriber on one
 * instance hears what another instance publishes.
 */
export function createAppPubSub(redisUrl?: string, opts: PubSubOptions = {}): PubSubHandle {
  if (!redisUrl) {
    // A busy room has one listener per subscriber on its topic: that is the design, not a leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return { pubsub: bufferedPubSub(eventTarget, opts), close: async () => {} };
  }
  const redisOpts = { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false };
  const publishClient = new Redis(redisUrl, redisOpts);
  // ioredis 5 sends CLIENT SETINFO after reading its own package.json, and its ready check (INFO) only
  // after that; a SUBSCRIBE asked meanwhile is written at once, the connection enters subscriber mode,
  // the INFO is refused, and the connection restarts without the channels subscribed so far (a loaded
  // instance starting up lost every cross-instance event on them: ioredis issue #2037, fixed in ioredis 6,
  // which @graphql-yoga/redis-event-target does not accept yet). Without CLIENT SETINFO the ready check
  // goes out as the socket connects, before any SUBSCRIBE can (test/pubsub.redis-connect.test.ts).
  const subscribeClient = new Redis(redisUrl, { ...redisOpts, disableClientInfo: true });
  // The event target fires publish/subscribe without awaiting them: while Redis is down their
  // rejections would be unhandled and end the process. Stored data is safe (store-then-send) and
  // subscribers catch up from the database, so a lost event is dropped here, not fatal.
  const dropped = () => 0;
  for (const c of [publishClient, subscribeClient]) c.on('error', () => {});
  const eventTarget = createRedisEventTarget<any>({
    publishClient: { publish: (channel: string, message: string) => publishClient.publish(channel, message).catch(dropped) } as unknown as Redis,
    subscribeClient: {
      on: (event: string, fn: (...args: any[]) => void) => subscribeClient.on(event, fn),
      subscribe: (channel: string) => subscribeClient.subscribe(channel).catch(dropped),
      unsubscribe: (channel: string) => subscribeClient.unsubscribe(channel).catch(dropped),
    } as unknown as Redis,
  });
  return {
    pubsub: bufferedPubSub(eventTarget, opts),
    redis: publishClient,
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** Events a subscriber may fall behind by before its oldest pending ones are dropped. */
export const SUBSCRIBER_BUFFER = 4096;

/**
 * yoga's pub/sub, except that each subscription gets a buffer of its own. Unbuffered, a subscriber
 * more than 1024 events behind (a stalled socket, a burst of deltas) makes `publish` throw and can end
 * the process; yoga's `repeaterBuffer` option would share ONE buffer between all subscriptions. A slow
 * subscriber loses its oldest pending events instead: room streams refill seq gaps from the
 * database, and thread and payment streams end with a complete final event.
 */
function bufferedPubSub(eventTarget: EventTarget, opts: PubSubOptions): AppPubSub {
  const base = createPubSub<Topics>({ eventTarget: eventTarget as any });
  const subscribe = (routingKey: string, id?: string) => {
    const topic = id === undefined ? routingKey : `${routingKey}:${id}`;
    // The same unwrapped payload object goes to every subscriber of one event (shared live execution relies on it).
    return new SlidingSubscription(eventTarget, topic, SUBSCRIBER_BUFFER, (detail) => {
      if (!isEnvelope(detail)) return detail;
      // Every listener of one event gets the same envelope: its lag is observed by the first only.
      if (detail['@seen'] !== true) {
        detail['@seen'] = true;
        opts.onReceive?.(routingKey, Date.now() - detail['@at']);
      }
      return detail['@p'];
    });
  };
  const taps = new Set<LocalPublishListener>();
  const publish = (topic: keyof Topics, ...args: unknown[]) => {
    const keyed = args.length >= 2 && args[1] !== undefined;
    const envelope: Envelope = { '@at': Date.now(), '@p': keyed ? args[1] : args[0] };
    (base.publish as (t: string, ...a: unknown[]) => void)(topic, ...(keyed ? [args[0], envelope] : [envelope]));
    for (const tap of taps) {
      try {
        tap({ topic, args } as Published);
      } catch {
        // A listener's bug must not fail the publisher, whose write has already committed.
      }
    }
  };
  const onLocalPublish = (listener: LocalPublishListener) => {
    taps.add(listener);
    return () => void taps.delete(listener);
  };
  return { publish, subscribe, onLocalPublish } as unknown as AppPubSub;
}

/**
 * A source whose events can be handed to a callback as they arrive instead of pulled with `next()`
 * (src/live.ts LiveQueue uses it: an idle subscription then holds no pending promise or pump loop).
 */
export const DIRECT = Symbol('direct');
export interface DirectSource<T> {
  /**
   * From now on each event goes to `onEvent` (after any already buffered, in order), never to `next()`;
   * `onError` is told if `onEvent` throws. `return()` still stops listening.
   */
  [DIRECT](onEvent: (event: T) => void, onError: (error: unknown) => void): void;
}

/**
 * One subscriber's events, listened to from creation: handed to a waiting `next()` at once, else
 * buffered, dropping the oldest beyond `limit` (a sliding buffer). `return()` stops listening. It is
 * what a Repeater with a SlidingBuffer did, without its several promises per event: on a room with
 * a thousand subscribers every event passes through a thousand of these.
 */
class SlidingSubscription<T> implements AsyncIterableIterator<T>, DirectSource<T> {
  private items: T[] = [];
  private head = 0;
  private waiter?: (result: IteratorResult<T>) => void;
  private done = false;
  private direct?: (value: T) => void;
  private readonly listener = (event: Event) => this.push(this.unwrap((event as CustomEvent).detail) as T);

  constructor(
    private readonly target: EventTarget,
    private readonly topic: string,
    private readonly limit: number,
    private readonly unwrap: (detail: unknown) => unknown,
  ) {
    target.addEventListener(topic, this.listener);
  }

  private push(value: T) {
    if (this.done) return;
    if (this.direct) return this.direct(value);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter({ value, done: false });
      return;
    }
    this.items.push(value);
    if (this.items.length - this.head > this.limit) this.head++;
    // Compact now and then so that the array does not grow with what was already taken.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  [DIRECT](onEvent: (event: T) => void, onError: (error: unknown) => void): void {
    const deliver = (value: T) => {
      try {
        onEvent(value);
      } catch (err) {
        onError(err);
      }
    };
    const pending = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.direct = deliver;
    for (const value of pending) if (!this.done) deliver(value);
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.done) {
      this.done = true;
      this.direct = undefined;
      this.items = [];
      this.head = 0;
      this.target.removeEventListener(this.topic, this.listener);
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

/** Maps each event of a subscription stream; closing the result closes the source. */
export async function* mapAsync<T, U>(source: AsyncIterable<T>, fn: (value: T) => U): AsyncGenerator<U> {
  for await (const value of source) yield fn(value);
}
