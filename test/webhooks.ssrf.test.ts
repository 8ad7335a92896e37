import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { addMember, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { eventually, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';

const Create = graphql(`
  mutation WebhookSsrfCreate($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id url } } }
`);
const Update = graphql(`mutation WebhookSsrfUpdate($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }`);
const Deliveries = graphql(`
  query WebhookSsrfDeliveries($id: ID!) {
    node(id: $id) { ... on Webhook { url deliveries(first: 10) { edges { node { status attempts lastStatusCode lastError } } } } }
  }
`);

const retries = { backoffBaseMs: 200, pollIntervalMs: 100 };
let database: TestDatabase;
let receiver: WebhookReceiver;
let server: TestServer;
beforeAll(async () => {
  database = await createTestDatabase();
  receiver = await startWebhookReceiver();
  server = await startServer({ database, overrides: { webhooks: retries } });
});
afterAll(() => database.drop());

describe('SSRF protection (webhooks.allow_private = false, the default)', () => {
  it('refuses URLs that are or resolve to loopback, private, link-local or unique-local addresses', async () => {
    const { org, owner } = await orgWithMembers(server);
    const refused = [
      'http://127.0.0.1/x',
      'http://127.1.2.3:8080/x',
      'http://2130706433/x',
      'http://0x7f000001/x',
      'http://0.0.0.0/x',
      'http://localhost/x',
      'http://LOCALHOST./x',
      'http://10.1.2.3/x',
      'http://172.16.0.1/x',
      'http://192.168.1.1/x',
      'http://100.64.0.1/x',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/x',
      'http://[::]/x',
      'http://[::ffff:127.0.0.1]/x',
      'http://[::ffff:10.0.0.1]/x',
      'http://[fd00::1]/x',
      'http://[fe80::1]/x',
      'http://[64:ff9b::a00:1]/x',
      'http://no-such-host.invalid/x',
      // IPv4-compatible (::/96, deprecated): refused whole, whatever it embeds.
      'http://[::7f00:1]/x',
      'http://[::127.0.0.1]/x',
      'http://[::a9fe:a9fe]/x',
      'http://[::808:808]/x',
      // The other ways to embed an IPv4 address, judged by what they embed.
      'http://[::ffff:7f00:1]/x',
      'http://[::ffff:a9fe:a9fe]/x',
      'http://[::ffff:0:7f00:1]/x',
      'http://[64:ff9b::127.0.0.1]/x',
      'http://[64:ff9b::a9fe:a9fe]/x',
      'http://[64:ff9b:1::a00:1]/x',
      'http://[2002:7f00:1::1]/x',
      'http://[2002:a00:1::1]/x',
      'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x', // Teredo, client 127.0.0.1 (stored inverted)
      'http://[2001:0:a00:1:8000:63bf:a247:28f1]/x', // Teredo, server 10.0.0.1
    ];
    for (const url of refused) {
      const res = await server.gql(Create, { input: { orgId: org.id, url, events: ['MEMBER_JOINED'] } }, { token: owner.token });
      expect(res.errors?.[0]?.extensions?.code, url).toBe('BAD_USER_INPUT');
    }
    const { createWebhook } = await server.ok(Create, { input: { orgId: org.id, url: 'https://93.184.215.14/hooks', events: ['MEMBER_JOINED'] } }, { token: owner.token });
    expect(createWebhook.webhook.url).toBe('https://93.184.215.14/hooks');
    await server.ok(Create, { input: { orgId: org.id, url: 'https://[2606:4700:4700::1111]/hooks', events: ['MEMBER_JOINED'] } }, { token: owner.token });
    // Embedding a public IPv4 address is fine (DNS64 answers 64:ff9b::<IPv4> for every IPv4-only name).
    for (const host of ['[::ffff:93.184.215.14]', '[64:ff9b::93.184.215.14]', '[2002:5db8:d70e::1]', '[2001:0:4136:e378:8000:63bf:a247:28f1]']) {
      await server.ok(Create, { input: { orgId: org.id, url: `https://${host}/hooks`, events: ['MEMBER_JOINED'] } }, { token: owner.token });
    }
    expect(await server.errorCode(Update, { input: { webhookId: createWebhook.webhook.id, url: 'http://127.0.0.1/x' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });

  it('checks the address again at each send, so a name that now resolves to loopback (DNS rebinding) gets nothing', async () => {
    // Webhooks stored while private addresses were allowed stand for names that resolved publicly then.
    await server.stop();
    const lax = await startServer({ database, overrides: { webhooks: { ...retries, allowPrivate: true } } });
    const { org, owner } = await orgWithMembers(lax);
    const ids: string[] = [];
    for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]', '[::7f00:1]', '[64:ff9b::7f00:1]']) {
      const { createWebhook } = await lax.ok(Create, { input: { orgId: org.id, url: `http://${host}:${receiver.port}/rebind`, events: ['MEMBER_JOINED'] } }, { token: owner.token });
      ids.push(createWebhook.webhook.id);
    }
    await lax.stop();

    server = await startServer({ database, overrides: { webhooks: retries } });
    await addMember(server, org.id, owner, await registerUser(server));
    for (const id of ids) {
      const d = await eventually(async () => {
        const node = (await server.ok(Deliveries, { id }, { token: owner.token })).node as any;
        const first = node.deliveries.edges[0]?.node;
        return first?.attempts >= 1 && first;
      });
      expect(d).toMatchObject({ status: 'PENDING', lastStatusCode: null });
      expect(d.lastError).toMatch(/not a public address|non-public address/);
    }
    expect(receiver.received.filter((h) => h.path === '/rebind')).toEqual([]);
  });
});
