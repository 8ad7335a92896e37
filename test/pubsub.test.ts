import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createAppPubSub, SUBSCRIBER_BUFFER } from '../src/live/bus.ts';
import { openFeed } from '../src/live/feed.ts';

/** The next event `listen` hears on a topic. */
const nextOf = <T>(listen: (handler: (e: T) => void) => () => void) =>
  new Promise<T>((resolve) => {
    const stop = listen((e) => (stop(), resolve(e)));
  });

describe('bus', () => {
  it('listens once per channel per process, whatever the number of handlers, and lets go with the last', () => {
    const { pubsub } = createAppPubSub();
    const got: string[] = [];
    const stops = [1, 2, 3].map((n) => pubsub.listen('org:membershipChanged', 'org1', (e) => got.push(`${n}:${e.userId}`)));
    const other = pubsub.listen('org:membershipChanged', 'org2', (e) => got.push(`other:${e.userId}`));
    expect(pubsub.channelCount()).toBe(2);
    pubsub.publish('org:membershipChanged', 'org1', { userId: 'u1', role: null });
    expect(got).toEqual(['1:u1', '2:u1', '3:u1']);
    for (const stop of stops) stop();
    expect(pubsub.channelCount()).toBe(1);
    pubsub.publish('org:membershipChanged', 'org1', { userId: 'u2', role: null });
    expect(got).toEqual(['1:u1', '2:u1', '3:u1']);
    other();
    expect(pubsub.channelCount()).toBe(0);
  });

  it('hands every handler of one event the same payload object, and a throwing handler does not stop the others', () => {
    const { pubsub } = createAppPubSub();
    const seen: unknown[] = [];
    pubsub.listen('chat:cancel', () => {
      throw new Error('handler bug');
    });
    pubsub.listen('chat:cancel', (e) => seen.push(e));
    pubsub.listen('chat:cancel', (e) => seen.push(e));
    pubsub.publish('chat:cancel', { messageId: 'm' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
  });
});

describe('feed', () => {
  it('keeps publishing when a subscriber stalls, dropping only that subscriber’s oldest events', async () => {
    const { pubsub, close } = createAppPubSub();
    const stalled = openFeed<{ userId: string }>(pubsub, (f) => f.listen('org:membershipChanged', 'org1', (e) => f.push(e)));
    const other = openFeed<{ userId: string }>(pubsub, (f) => f.listen('org:membershipChanged', 'org2', (e) => f.push(e)));
    const first = stalled.next();
    const otherFirst = other.next();
    const total = SUBSCRIBER_BUFFER + 1000;
    for (let i = 0; i < total; i++) pubsub.publish('org:membershipChanged', 'org1', { userId: `u${i}`, role: null });
    pubsub.publish('org:membershipChanged', 'org2', { userId: 'x', role: 'MEMBER' });
    expect((await first).value).toEqual({ userId: 'u0', role: null });
    const rest: string[] = [];
    for (let i = 0; i < SUBSCRIBER_BUFFER; i++) rest.push((await stalled.next()).value.userId);
    // The newest events are all there, in order, ending with the last one published.
    expect(rest[rest.length - 1]).toBe(`u${total - 1}`);
    expect(rest).toEqual([...rest].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    expect((await otherFirst).value).toEqual({ userId: 'x', role: 'MEMBER' });
    await stalled.return();
    await other.return();
    expect(pubsub.channelCount()).toBe(0);
    await close();
  });

  it('hears events published while its start step runs, and handles them after it, in order, without duplicates', async () => {
    const { pubsub } = createAppPubSub();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let last = 0;
    const feed = openFeed<number>(pubsub, (f) => {
      f.listen('kv:event', 'i1', (e) => {
        if (e.version <= last) return;
        last = e.version;
        f.push(e.version);
      });
      return async () => {
        await gate;
        // "Replayed" 1 and 2 from storage while 2 and 3 were published.
        f.push(1);
        f.push(2);
        last = 2;
      };
    });
    const got: number[] = [];
    const pulling = (async () => {
      for await (const v of feed) {
        got.push(v);
        if (v === 3) return;
      }
    })();
    await Promise.resolve();
    pubsub.publish('kv:event', 'i1', { version: 2 } as never);
    pubsub.publish('kv:event', 'i1', { version: 3 } as never);
    release();
    await pulling;
    expect(got).toEqual([1, 2, 3]);
  });

  it('waits for a step handed to `later` before handling the next event, and ends with the error of a failed step', async () => {
    const { pubsub } = createAppPubSub();
    const feed = openFeed<string>(pubsub, (f) => {
      f.listen('chat:cancel', ({ messageId }) => {
        if (messageId === 'slow') return f.later(async () => {
          await new Promise((r) => setImmediate(r));
          f.push('slow');
        });
        if (messageId === 'boom') return f.later(async () => Promise.reject(new Error('step failed')));
        f.push(messageId);
      });
    });
    const first = feed.next();
    pubsub.publish('chat:cancel', { messageId: 'slow' });
    pubsub.publish('chat:cancel', { messageId: 'fast' });
    expect((await first).value).toBe('slow');
    expect((await feed.next()).value).toBe('fast');
    pubsub.publish('chat:cancel', { messageId: 'boom' });
    pubsub.publish('chat:cancel', { messageId: 'never' });
    await expect(feed.next()).rejects.toThrow('step failed');
    expect(pubsub.channelCount()).toBe(0);
  });
  it('tells a consumer that comes after the feed ended how it ended, and lets go of its channels', () => {
    const { pubsub } = createAppPubSub();
    const failed = openFeed<string>(pubsub, (f) => f.listen('chat:cancel', () => f.push('x')));
    failed.fail(new GraphQLError('gone', { extensions: { code: 'FORBIDDEN' } }));
    const ended = openFeed<string>(pubsub, (f) => f.listen('chat:cancel', () => f.push('x')));
    ended.end();
    expect(pubsub.channelCount()).toBe(0);
    const heard: string[] = [];
    const sink = (name: string) => ({ item: () => heard.push(`${name}:item`), complete: () => heard.push(`${name}:complete`), error: (e: GraphQLError) => heard.push(`${name}:error:${e.extensions.code}`) });
    failed.attach(sink('failed'));
    ended.attach(sink('ended'));
    expect(heard).toEqual(['failed:error:FORBIDDEN', 'ended:complete']);
  });
});

describe('onLocalPublish', () => {
  it('sees what this process publishes, with its topic and arguments, until unhooked', () => {
    const { pubsub } = createAppPubSub();
    const seen: unknown[] = [];
    const off = pubsub.onLocalPublish((e) => seen.push(e));
    pubsub.publish('org:membershipChanged', 'o1', { userId: 'u1', role: 'MEMBER', change: 'JOINED' });
    pubsub.publish('chat:cancel', { messageId: 'm1' });
    off();
    pubsub.publish('chat:cancel', { messageId: 'm2' });
    expect(seen).toEqual([
      { topic: 'org:membershipChanged', args: ['o1', { userId: 'u1', role: 'MEMBER', change: 'JOINED' }] },
      { topic: 'chat:cancel', args: [{ messageId: 'm1' }] },
    ]);
  });

  it('keeps publishing when a listener throws', async () => {
    const { pubsub } = createAppPubSub();
    const next = nextOf<{ messageId: string }>((h) => pubsub.listen('chat:cancel', h));
    pubsub.onLocalPublish(() => {
      throw new Error('listener bug');
    });
    expect(() => pubsub.publish('chat:cancel', { messageId: 'm' })).not.toThrow();
    expect(await next).toEqual({ messageId: 'm' });
  });

  it.skipIf(!process.env.TEST_REDIS_URL)('does not see events that arrive from another instance through Redis', async () => {
    const a = createAppPubSub(process.env.TEST_REDIS_URL);
    const b = createAppPubSub(process.env.TEST_REDIS_URL);
    const onA: string[] = [];
    const onB: string[] = [];
    a.pubsub.onLocalPublish((e) => onA.push(e.topic));
    b.pubsub.onLocalPublish((e) => onB.push(e.topic));
    const channel = `local-tap-${Date.now()}`;
    const next = new Promise<{ messageId: string }>((resolve) => {
      const stop = b.pubsub.listen('chat:cancel', (e) => e.messageId === channel && (stop(), resolve(e)));
    });
    // Published until B hears it: B's Redis subscription takes a moment to be in place.
    const timer = setInterval(() => a.pubsub.publish('chat:cancel', { messageId: channel }), 200);
    expect(await next).toEqual({ messageId: channel });
    clearInterval(timer);
    expect(onA.length).toBeGreaterThan(0);
    expect(new Set(onA)).toEqual(new Set(['chat:cancel']));
    expect(onB).toEqual([]);
    await a.close();
    await b.close();
  });
});
