import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { decryptPush, startFakePushService, type FakePushService } from './helpers/fake-push.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Register = graphql(`
  mutation PushRedisRegister($input: RegisterPushSubscriptionInput!) { registerPushSubscription(input: $input) { id } }
`);
const Notify = graphql(`
  mutation PushRedisNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }
`);
const Presence = graphql(`
  query PushRedisPresence($id: ID!) { node(id: $id) { ... on User { presence } } }
`);
const Live = graphql(`
  subscription PushRedisLive { notifications { id } }
`);

// Two instances on one database and one Redis, sharing one data directory (so one VAPID key pair).
describe.skipIf(!process.env.TEST_REDIS_URL)('Web Push across instances', () => {
  let database: TestDatabase;
  let fake: FakePushService;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    fake = await startFakePushService();
    database = await createTestDatabase();
    const overrides = { redis: { url: process.env.TEST_REDIS_URL! }, dataDir: mkdtempSync(join(tmpdir(), 'confab-push-redis-')), push: { allowPrivate: true, caFile: fake.caFile } };
    a = await startServer({ database, overrides });
    b = await startServer({ database, overrides });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await database?.drop();
    await fake?.close();
  });

  it('pushes to nobody who has a socket open on another instance', async () => {
    const { org, owner, members } = await orgWithMembers(a, 2);
    const [online, offline] = members;
    const [bOn, bOff] = [fake.browser(), fake.browser()];
    await a.ok(Register, { input: bOn.input }, { token: online.token });
    await a.ok(Register, { input: bOff.input }, { token: offline.token });

    // Online on instance b; instance a sees it through Redis.
    const live = subscribe(b.ws({ token: online.token }), Live, {});
    for (let deadline = Date.now() + 10_000; ; ) {
      const res = await a.ok(Presence, { id: online.id }, { token: owner.token });
      if ((res.node as { presence?: string } | null)?.presence === 'ONLINE') break;
      if (Date.now() > deadline) throw new Error('never came online');
      await new Promise((r) => setTimeout(r, 50));
    }
    await a.ok(Notify, { input: { orgId: org.id, topic: 'ping', payload: { body: 'hello' }, targets: { userIds: [online.id, offline.id] } } }, { token: owner.token });
    // Decided in the same pass: once the offline one's push arrived, the online one's would have been sent too.
    expect(decryptPush(bOff, (await fake.pushTo(bOff.path)).body)).toMatchObject({ type: 'notification', body: 'hello', orgId: org.id });
    expect((await live.next()).data!.notifications).toBeTruthy();
    live.close();
    expect(fake.pushesTo(bOn.path)).toEqual([]);
  });
});
