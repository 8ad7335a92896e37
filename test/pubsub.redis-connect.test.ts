import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createAppPubSub } from '../src/pubsub.ts';

/** Keeps libuv's thread pool (4 threads) busy for a while: file reads queue behind it. */
const jamThreadPool = () => Promise.all(Array.from({ length: 4 }, () => promisify(pbkdf2)('jam', 'salt', 2_000_000, 32, 'sha256')));

/** The first event on `sub` whose messageId is `id` (other test files share this Redis and this topic). */
async function heard(sub: AsyncIterator<{ messageId: string }>, id: string, ms: number): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), ms));
  const found = (async () => {
    for (;;) {
      const { value, done } = await sub.next();
      if (done) return false;
      if (value.messageId === id) return true;
    }
  })();
  return Promise.race([found, timeout]);
}

// This file must be the first in its process to open a Redis connection: ioredis reads its package.json
// (on the thread pool) on its first connection only, between the socket connecting and its ready check.
describe.skipIf(!process.env.TEST_REDIS_URL)('pub/sub through Redis, subscribed while the connection starts', () => {
  it('hears a topic subscribed after the socket connected but before the client was ready', async () => {
    const jam = jamThreadPool();
    const listener = createAppPubSub(process.env.TEST_REDIS_URL);
    // Connected by now (loopback, no thread pool involved), while the ready check waits on that file read.
    await new Promise((r) => setTimeout(r, 100));
    const sub = listener.pubsub.subscribe('chat:cancel');
    await jam;
    const publisher = createAppPubSub(process.env.TEST_REDIS_URL);
    const id = `connect-race-${process.pid}-${Date.now()}`;
    // Published until heard or for 3 s: a subscription in place takes milliseconds to hear it.
    const timer = setInterval(() => publisher.pubsub.publish('chat:cancel', { messageId: id }), 100);
    try {
      expect(await heard(sub, id, 3000)).toBe(true);
    } finally {
      clearInterval(timer);
      await sub.return?.();
      await publisher.close();
      await listener.close();
    }
  });
});
