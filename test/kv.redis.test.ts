import { describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { kvWorld, SetKey } from './helpers/kv.ts';
import { twoInstances, type TestServer } from './helpers/server.ts';

const Events = graphql(`
  subscription KvRedisEvents($kvInstanceId: ID!, $afterVersion: Int) {
    kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) { __typename ... on KvKeyUpdated { version } ... on KvKeyDeleted { version } ... on KvInstanceCleared { version } }
  }
`);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Two instances on one database and one Redis: a subscriber on either hears writes made on both.
describe.skipIf(!process.env.TEST_REDIS_URL)('kvEvents across two instances (Redis)', () => {
  const servers = twoInstances();

  it('delivers every version exactly once, in order, to subscribers on both instances, and to one resuming later', { timeout: 90_000 }, async () => {
    const { a, b } = servers;
    const world = await kvWorld(a);
    const instanceId = world.instanceId;
    const auth = world.actors.writer;
    const liveA = subscribe(a.ws(auth), Events, { kvInstanceId: instanceId, afterVersion: 0 });
    const liveB = subscribe(b.ws(auth), Events, { kvInstanceId: instanceId, afterVersion: 0 });
    await Promise.all([liveA.expectSilence(300), liveB.expectSilence(300)]);
    const write = (s: TestServer, tag: string) => async () => {
      for (let i = 0; i < 25; i++) await s.ok(SetKey, { input: { kvInstanceId: instanceId, name: `${tag}${i % 3}`, value: i } }, auth);
    };
    await Promise.all([write(a, 'a')(), write(b, 'b')(), write(a, 'c')(), write(b, 'd')()]);
    const total = 100;
    const collect = async (sub: ReturnType<typeof subscribe<any, any>>) => {
      const got: number[] = [];
      while (got.length < total) got.push((await sub.next(10_000)).data!.kvEvents.version);
      await sub.expectSilence(200);
      return got;
    };
    expect(await collect(liveA)).toEqual(range(1, total));
    expect(await collect(liveB)).toEqual(range(1, total));
    const resumed = subscribe(b.ws(auth), Events, { kvInstanceId: instanceId, afterVersion: 40 });
    const got: number[] = [];
    while (got.length < 60) got.push((await resumed.next()).data!.kvEvents.version);
    expect(got).toEqual(range(41, 100));
  });
});
