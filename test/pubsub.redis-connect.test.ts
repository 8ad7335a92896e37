import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createAppPubSub } from '../src/live/bus.ts';

/** Keeps libuv's thread pool (4 threads) busy for a while: file reads queue behind it. */
const jamThreadPool = () => Promise.all(Array.from({ length: 4 }, () => promisify(pbkdf2)('jam', 'salt', 2_000_000, 32, 'sha256')));

/** Listens to chat:cancel; `heard(id, ms)` is whether an event with that messageId arrives within `ms` (other test files share this Redis and this topic). */
function listener(pubsub: ReturnType<typeof createAppPubSub>['pubsub']) {
  const seen = new Set<string>();
  const waiters = new Map<string, () => void>();
  const stop = pubsub.listen('chat:cancel', ({ messageId }) => {
    seen.add(messageId);
    waiters.get(messageId)?.();
  });
  const heard = (id: string, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (seen.has(id)) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      waiters.set(id, () => (clearTimeout(timer), resolve(true)));
    });
  return { heard, stop };
}

// This file must be the first in its process to open a Redis connection: ioredis reads its package.json
// (on the thread pool) on its first connection only, between the socket connecting and its ready check.
describe.skipIf(!process.env.TEST_REDIS_URL)('pub/sub through Redis, subscribed while the connection starts', () => {
  it('hears a topic subscribed after the socket connected but before the client was ready', async () => {
    const jam = jamThreadPool();
    const bus = createAppPubSub(process.env.TEST_REDIS_URL);
    // Connected by now (loopback, no thread pool involved), while the ready check waits on that file read.
    await new Promise((r) => setTimeout(r, 100));
    const sub = listener(bus.pubsub);
    await jam;
    const publisher = createAppPubSub(process.env.TEST_REDIS_URL);
    const id = `connect-race-${process.pid}-${Date.now()}`;
    // Published until heard or for 3 s: a subscription in place takes milliseconds to hear it.
    const timer = setInterval(() => publisher.pubsub.publish('chat:cancel', { messageId: id }), 100);
    try {
      expect(await sub.heard(id, 3000)).toBe(true);
    } finally {
      clearInterval(timer);
      sub.stop();
      await publisher.close();
      await bus.close();
    }
  });
});
