import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createGqlClient, type GqlClient } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { spawnServer, type ServerProcess } from './helpers/process.ts';
import type { TestServer } from './helpers/server.ts';
import { startWebhookReceiver, verifySignature, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const Create = graphql(`
  mutation WebhookClusterCreate($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }
`);
const CreateRoom = graphql(`mutation WebhookClusterRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation WebhookClusterSend($input: SendMessageInput!) { sendMessage(input: $input) { id } }`);

// Two real server processes on one database (a PostgreSQL database, or one SQLite file shared by both),
// with Redis when there is one: then each instance also hears the other's events, and must not enqueue them.
describe('webhooks on two server processes sharing a database', () => {
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  const procs: ServerProcess[] = [];
  const clients: GqlClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await startWebhookReceiver();
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      CONFAB_WEBHOOKS_ALLOW_PRIVATE: 'true',
      CONFAB_WEBHOOKS_POLL_INTERVAL_MS: '200',
      CONFAB_WEBHOOKS_BACKOFF_BASE_MS: '100',
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    };
    // The first applies the migrations; the second need not (on SQLite, under load, its migration lock can time out).
    for (let i = 0; i < 2; i++) {
      const p = await spawnServer(i ? { ...env, CONFAB_MIGRATE: 'false' } : env);
      procs.push(p);
      clients.push(createGqlClient(`${p.origin}/graphql`, `ws://127.0.0.1:${p.port}/graphql`));
    }
  }, 240_000);

  afterAll(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null) p.child.kill('SIGTERM');
      await p.exited;
    }
    await database?.drop();
  });

  it('sends each event once, and each retry from one instance only, whichever instance raised it', async () => {
    const [a, b] = clients;
    const { org, owner } = await orgWithMembers(a as unknown as TestServer);
    const auth = { token: owner.token };
    const { createWebhook } = await a.ok(Create, { input: { orgId: org.id, url: `${receiver.url}/cluster`, events: ['ROOM_MESSAGE_ADDED'] } }, auth);
    const { createRoom } = await a.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'c', memberIds: [] } }, auth);
    // Every event's first attempt fails, so both workers race for every retry.
    const seen = new Map<string, number>();
    receiver.respond = (h) => {
      const n = (seen.get(h.body.id) ?? 0) + 1;
      seen.set(h.body.id, n);
      return n === 1 ? 500 : 200;
    };

    const N = 16;
    const sent = await Promise.all(
      Array.from({ length: N }, (_, i) => (i % 2 ? a : b).ok(Send, { input: { roomId: createRoom.id, content: `m${i}` } }, auth)),
    );
    const ok = await receiver.waitFor(N, (h) => h.status === 200, 30_000);
    await new Promise((r) => setTimeout(r, 1000));

    expect(new Set(ok.map((h) => h.body.data.messageId))).toEqual(new Set(sent.map((s) => s.sendMessage.id)));
    const perEvent = new Map<string, number[]>();
    for (const h of receiver.received) perEvent.set(h.body.id, [...(perEvent.get(h.body.id) ?? []), h.status]);
    expect(perEvent.size).toBe(N);
    for (const statuses of perEvent.values()) expect(statuses).toEqual([500, 200]);
    for (const h of ok) verifySignature(h, createWebhook.secret);
  }, 60_000);
});
