import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import { setMaxListeners } from 'node:events';

/**
 * Every topic the server announces. Each domain's `*.topics.ts` adds its own to this interface by
 * declaration merging (`declare module '../../live/bus.ts'`), so the map is one and typed while this
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

/** The payload a handler of `topic` receives: the last of its arguments. */
export type PayloadOf<K extends keyof Topics> = Topics[K] extends [infer _Id, infer P] ? P : Topics[K] extends [infer P] ? P : never;
/** Topics keyed by an id (`[id, payload]`). */
export type KeyedTopic = { [K in keyof Topics]: Topics[K] extends [string, unknown] ? K : never }[keyof Topics];
export type PlainTopic = Exclude<keyof Topics, KeyedTopic>;

export interface AppPubSub {
  publish<K extends keyof Topics>(topic: K, ...args: Topics[K]): void;
  /**
   * Hears every event of the topic (of the id, for a keyed topic) that reaches this process, from now until
   * the returned function is called. The handler runs synchronously inside the delivery loop: it must be
   * quick. Subscriptions do not call this themselves: they open a feed (src/live/feed.ts).
   */
  listen<K extends KeyedTopic>(topic: K, id: string, handler: (payload: PayloadOf<K>) => void): () => void;
  listen<K extends PlainTopic>(topic: K, handler: (payload: PayloadOf<K>) => void): () => void;
  /** Channels with at least one local handler (tests and metrics). */
  channelCount(): number;
  /**
   * Listens to events published by THIS process only, never to those arriving from other instances
   * through Redis: whatever acts once per event (webhooks) hears each exactly once across a cluster.
   * Returns the function that stops listening.
   */
  onLocalPublish(listener: LocalPublishListener): () => void;
}

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
    const eventTarget = new EventTarget();
    // One listener per channel in use (a room, a thread...): many, by design.
    setMaxListeners(0, eventTarget);
    return { pubsub: createBus(eventTarget, opts), close: async () => {} };
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
    pubsub: createBus(eventTarget, opts),
    redis: publishClient,
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** Events a feed may fall behind by before its oldest pending ones are dropped (src/live/feed.ts). */
export const SUBSCRIBER_BUFFER = 4096;

type Handler = (payload: any) => void;

/**
 * The bus on an event target (in memory, or Redis's): ONE listener per channel per process, whatever the
 * number of local subscribers, and each event unwrapped once and handed to every handler of its channel
 * in a plain loop (the hub: src/live/socket.ts then executes and writes it once per group of subscribers).
 */
function createBus(eventTarget: EventTarget, opts: PubSubOptions): AppPubSub {
  const channels = new Map<string, { handlers: Set<Handler>; listener: (event: Event) => void }>();
  const listen = (topic: string, idOrHandler: string | Handler, maybeHandler?: Handler) => {
    const id = typeof idOrHandler === 'function' ? undefined : idOrHandler;
    const handler = (typeof idOrHandler === 'function' ? idOrHandler : maybeHandler)!;
    const channel = id === undefined ? topic : `${topic}:${id}`;
    let entry = channels.get(channel);
    if (!entry) {
      const handlers = new Set<Handler>();
      const listener = (event: Event) => {
        const detail = (event as CustomEvent).detail;
        let payload = detail;
        if (isEnvelope(detail)) {
          opts.onReceive?.(topic, Date.now() - detail['@at']);
          payload = detail['@p'];
        }
        // The same payload object goes to every handler of one event (shared live execution relies on it).
        for (const h of handlers) {
          try {
            h(payload);
          } catch {
            // one subscriber's failure is its own (feeds catch their handlers' errors themselves)
          }
        }
      };
      channels.set(channel, (entry = { handlers, listener }));
      eventTarget.addEventListener(channel, listener);
    }
    const e = entry;
    e.handlers.add(handler);
    return () => {
      if (!e.handlers.delete(handler) || e.handlers.size) return;
      channels.delete(channel);
      eventTarget.removeEventListener(channel, e.listener);
    };
  };
  const taps = new Set<LocalPublishListener>();
  const publish = (topic: keyof Topics, ...args: unknown[]) => {
    const keyed = args.length >= 2 && args[1] !== undefined;
    const envelope: Envelope = { '@at': Date.now(), '@p': keyed ? args[1] : args[0] };
    eventTarget.dispatchEvent(new CustomEvent(keyed ? `${topic}:${String(args[0])}` : topic, { detail: envelope }));
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
  return { publish, listen, onLocalPublish, channelCount: () => channels.size } as unknown as AppPubSub;
}
