import { describe, expect, it } from 'vitest';
import { createAppPubSub, SUBSCRIBER_BUFFER } from '../src/pubsub.ts';

describe('pub/sub', () => {
  it('keeps publishing when a subscriber stalls, dropping only that subscriber’s oldest events', async () => {
    const { pubsub, close } = createAppPubSub();
    const stalled = pubsub.subscribe('org:membershipChanged', 'org1');
    const other = pubsub.subscribe('org:membershipChanged', 'org2');
    // A repeater starts listening on its first next().
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
    await close();
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
    const sub = pubsub.subscribe('chat:cancel');
    const next = sub.next();
    pubsub.onLocalPublish(() => {
      throw new Error('listener bug');
    });
    expect(() => pubsub.publish('chat:cancel', { messageId: 'm' })).not.toThrow();
    expect((await next).value).toEqual({ messageId: 'm' });
    await sub.return();
  });

  it.skipIf(!process.env.TEST_REDIS_URL)('does not see events that arrive from another instance through Redis', async () => {
    const a = createAppPubSub(process.env.TEST_REDIS_URL);
    const b = createAppPubSub(process.env.TEST_REDIS_URL);
    const onA: string[] = [];
    const onB: string[] = [];
    a.pubsub.onLocalPublish((e) => onA.push(e.topic));
    b.pubsub.onLocalPublish((e) => onB.push(e.topic));
    const channel = `local-tap-${Date.now()}`;
    const sub = b.pubsub.subscribe('chat:cancel');
    const next = sub.next();
    // Published until B hears it: B's Redis subscription takes a moment to be in place.
    const timer = setInterval(() => a.pubsub.publish('chat:cancel', { messageId: channel }), 200);
    expect((await next).value).toEqual({ messageId: channel });
    clearInterval(timer);
    expect(onA.length).toBeGreaterThan(0);
    expect(new Set(onA)).toEqual(new Set(['chat:cancel']));
    expect(onB).toEqual([]);
    await sub.return();
    await a.close();
    await b.close();
  });
});
