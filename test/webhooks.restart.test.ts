import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { addMember, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer } from './helpers/server.ts';
import { eventually, startWebhookReceiver, verifySignature, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const Create = graphql(`
  mutation WebhookRestartCreate($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }
`);
const Deliveries = graphql(`
  query WebhookRestartDeliveries($id: ID!) {
    node(id: $id) { ... on Webhook { deliveries(first: 10) { edges { node { eventId status attempts lastStatusCode } } } } }
  }
`);

const overrides = { webhooks: { allowPrivate: true, backoffBaseMs: 300, backoffMaxMs: 1000, pollIntervalMs: 100, timeoutMs: 5000 } };

let database: TestDatabase;
let receiver: WebhookReceiver;
beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startWebhookReceiver();
});
afterAll(() => database.drop());

/** A server with an org, an owner and a webhook for MEMBER_JOINED, on the shared database. */
async function setUp() {
  const server = await startServer({ database, overrides });
  const { org, owner } = await orgWithMembers(server);
  const path = `/${org.id}`;
  const { createWebhook } = await server.ok(Create, { input: { orgId: org.id, url: `${receiver.url}${path}`, events: ['MEMBER_JOINED'] } }, { token: owner.token });
  return { server, org, owner, path, hook: createWebhook };
}

describe('deliveries across a restart', () => {
  it('sends a delivery still pending when the server stopped from the next server on the same database', async () => {
    const { server: a, org, owner, path, hook } = await setUp();
    receiver.respond = () => 503;
    await addMember(a, org.id, owner, await registerUser(a));
    await receiver.waitFor(1, (h) => h.path === path);
    await a.stop();
    const before = receiver.received.filter((h) => h.path === path).length;

    receiver.respond = () => 200;
    const b = await startServer({ database, overrides });
    const hits = await receiver.waitFor(before + 1, (h) => h.path === path);
    expect(hits.map((h) => h.status)).toEqual([...Array(before).fill(503), 200]);
    expect(verifySignature(hits.at(-1)!, hook.secret).id).toBe(hits[0].body.id);
    const rows = await eventually(async () => {
      const node = (await b.ok(Deliveries, { id: hook.webhook.id }, { token: owner.token })).node as any;
      const list = node.deliveries.edges.map((e: any) => e.node);
      return list[0]?.status === 'SUCCEEDED' && list;
    });
    expect(rows).toEqual([{ eventId: hits[0].body.id, status: 'SUCCEEDED', attempts: before + 1, lastStatusCode: 200 }]);
    await b.stop();
  });

  it('gives back a delivery cut short by the stop (not counted as an attempt), which the next server sends', async () => {
    const { server: a, org, owner, path, hook } = await setUp();
    let seen = 0;
    receiver.respond = (h) => (h.path === path && ++seen === 1 ? 'hang' : 200);
    await addMember(a, org.id, owner, await registerUser(a));
    await eventually(async () => seen === 1, 10_000, 'the first attempt to reach the receiver');
    await a.stop();

    const b = await startServer({ database, overrides });
    const [hit] = await receiver.waitFor(1, (h) => h.path === path);
    expect(hit.status).toBe(200);
    const rows = await eventually(async () => {
      const node = (await b.ok(Deliveries, { id: hook.webhook.id }, { token: owner.token })).node as any;
      const list = node.deliveries.edges.map((e: any) => e.node);
      return list[0]?.status === 'SUCCEEDED' && list;
    });
    expect(rows).toEqual([{ eventId: hit.body.id, status: 'SUCCEEDED', attempts: 1, lastStatusCode: 200 }]);
    expect(seen).toBe(2);
    await b.stop();
  });
});
