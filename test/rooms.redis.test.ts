import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { tcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const CreateRoom = graphql(`
  mutation RoomsRedisCreate($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation RoomsRedisSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }
`);
const Events = graphql(`
  subscription RoomsRedisEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename ... on RoomMessageAdded { seq } }
  }
`);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Two instances on one database, reaching Redis through a proxy that the test takes down and back up.
describe.skipIf(!process.env.TEST_REDIS_URL)('rooms when Redis goes away', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    const redis = new URL(process.env.TEST_REDIS_URL!);
    proxy = await tcpProxy(Number(redis.port || 6379), redis.hostname);
    database = await createTestDatabase();
    const overrides = { redis: { url: proxy.url('redis') } };
    a = await startServer({ database, overrides });
    b = await startServer({ database, overrides });
  });
  afterAll(async () => {
    await proxy.up().catch(() => undefined);
    await b?.stop();
    await a?.stop();
    await database?.drop();
  });

  it('keeps accepting messages while Redis is down, and subscribers get every seq exactly once after it returns', async () => {
    const { org, owner, members } = await orgWithMembers(a, 1);
    const { createRoom } = await a.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'r', memberIds: [members[0].id] } }, { token: owner.token });
    const roomId = createRoom.id;
    const sub = subscribe(b.ws({ token: members[0].token }), Events, { roomId });
    await sub.expectSilence(300);
    const send = () => a.ok(Send, { input: { roomId, content: 'x' } }, { token: owner.token });
    expect((await send()).sendMessage.seq).toBe(1);
    expect((await sub.next()).data!.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: 1 });

    await proxy.down();
    // Stored while Redis is unreachable: the senders notice nothing.
    expect((await send()).sendMessage.seq).toBe(2);
    expect((await send()).sendMessage.seq).toBe(3);
    // Long enough for the Redis client to give up on the queued publishes (they fail, unheard).
    await new Promise((r) => setTimeout(r, 1500));
    await proxy.up();

    // Once events flow again, the first one that arrives brings the missed seqs (read from the database) before it.
    let last = 3;
    const got: number[] = [];
    while (!got.length || got[got.length - 1] < last) {
      const e = await sub.next(1000).catch(() => undefined);
      if (e) got.push(e.data!.roomEvents.__typename === 'RoomMessageAdded' ? (e.data!.roomEvents as { seq: number }).seq : -1);
      else last = (await send()).sendMessage.seq;
    }
    expect(got).toEqual(range(2, last));
    await sub.expectSilence(300);

    const resumed = subscribe(b.ws({ token: members[0].token }), Events, { roomId, afterSeq: 1 });
    const replay: number[] = [];
    for (let i = 2; i <= last; i++) replay.push(((await resumed.next()).data!.roomEvents as { seq: number }).seq);
    expect(replay).toEqual(range(2, last));
  });
});
