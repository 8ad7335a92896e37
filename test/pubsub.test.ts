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
