import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
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
    return { pubsub: createPubSub<Topics>({ eventTarget: eventTarget as any }), close: async () => {} };
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
    pubsub: createPubSub<Topics>({ eventTarget }),
    redis: publishClient,
    async close() {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}

/** Maps each event of a subscription stream; closing the result closes the source. */
export async function* mapAsync<T, U>(source: AsyncIterable<T>, fn: (value: T) => U): AsyncGenerator<U> {
  for await (const value of source) yield fn(value);
}
