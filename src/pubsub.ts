import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import { createPubSub, type PubSub } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { setMaxListeners } from 'node:events';
import type { InvoiceTopics } from './modules/invoices/invoices.topics.ts';
import type { ChatTopics } from './modules/chat/chat.topics.ts';
import type { OrgTopics } from './modules/orgs/orgs.topics.ts';
import type { RoomTopics } from './modules/rooms/rooms.topics.ts';
import type { PresenceTopics } from './modules/presence/presence.topics.ts';
import type { NotificationTopics } from './modules/notifications/notifications.topics.ts';

/**
 * Every topic the server announces, merged from each domain's `*.topics.ts`. Topic names are
 * `'<entity>:<event>'`; a topic keyed by id takes `[id, payload]`. Payloads must survive JSON
 * (with Redis they cross processes): ids, strings, numbers, ISO dates, never Prisma objects with Dates
 * that a subscriber treats as Date.
 */
export type Topics = OrgTopics & ChatTopics & RoomTopics & PresenceTopics & NotificationTopics & InvoiceTopics;

export type AppPubSub = PubSub<Topics>;

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
export function createAppPubSub(redisUrl?: string): PubSubHandle {
  if (!redisUrl) {
    // A busy room has one listener per subscriber on its topic: that is the design, not a leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return { pubsub: bufferedPubSub(eventTarget), close: async () => {} };
  }
  const opts = { maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false };
  const publishClient = new Redis(redisUrl, opts);
  const subscribeClient = new Redis(redisUrl, opts);
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
    pubsub: bufferedPubSub(eventTarget),
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
function bufferedPubSub(eventTarget: EventTarget): AppPubSub {
  const base = createPubSub<Topics>({ eventTarget: eventTarget as any });
  const subscribe = (routingKey: string, id?: string) => {
    const topic = id === undefined ? routingKey : `${routingKey}:${id}`;
    return new Repeater((push, stop) => {
      const listener = (event: Event) => void push((event as CustomEvent).detail).catch(() => undefined);
      eventTarget.addEventListener(topic, listener);
      void stop.then(() => eventTarget.removeEventListener(topic, listener));
    }, new SlidingBuffer(SUBSCRIBER_BUFFER));
  };
  return { publish: base.publish, subscribe } as unknown as AppPubSub;
}

/** Maps each event of a subscription stream; closing the result closes the source. */
export async function* mapAsync<T, U>(source: AsyncIterable<T>, fn: (value: T) => U): AsyncGenerator<U> {
  for await (const value of source) yield fn(value);
}
