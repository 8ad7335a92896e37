import { beforeAll, describe, expect, it } from 'vitest';
import { createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { scrape } from './helpers/metrics.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { subscribe } from './helpers/client.ts';
import { graphql } from './gql/index.ts';

const Notify = graphql(`
  mutation OpsNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }
`);
const Me = graphql(`query OpsMe { me { email } }`);
const Live = graphql(`subscription OpsLive { notifications { topic payload } }`);

let server: TestServer;
let user: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer();
  user = await registerUser(server, { name: 'Ops' });
  orgId = (await createOrg(server, user)).id;
});

/** Polls /metrics until `check` passes (the WS hooks run after the client sees its message). */
async function eventually(read: () => Promise<void>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('/metrics', () => {
  it('moves the named series after real GraphQL requests, a WS subscription and a delivery', async () => {
    await server.ok(Me, {}, { token: user.token });
    expect(await server.errorCode(Notify, { input: { orgId, topic: 'ops', payload: {}, targets: { userIds: [user.id] } } })).toBe('UNAUTHENTICATED');

    const client = server.ws({ token: user.token });
    const sub = subscribe(client, Live);
    await eventually(async () => expect((await scrape(server.origin))('confab_ws_subscriptions', { field: 'notifications' })).toBe(1));
    await server.ok(Notify, { input: { orgId, topic: 'ops', payload: { n: 1 }, targets: { userIds: [user.id] } } }, { token: user.token });
    expect((await sub.next()).data?.notifications.topic).toBe('ops');

    await eventually(async () => {
      const m = await scrape(server.origin);
      expect(m('confab_graphql_operations_total', { operation_name: 'OpsMe', operation_type: 'query', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_graphql_operations_total', { operation_name: 'OpsNotify', outcome: 'error' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_graphql_operations_total', { operation_name: 'OpsNotify', operation_type: 'mutation', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_graphql_operations_total', { operation_name: 'OpsLive', operation_type: 'subscription', outcome: 'ok' })).toBe(1);
      expect(m('confab_graphql_operation_duration_seconds_count', { operation_name: 'OpsNotify' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_http_graphql_duration_seconds_count', { operation_name: 'OpsMe', status: '200' })).toBeGreaterThanOrEqual(1);
      expect(m('confab_ws_connections')).toBe(1);
      expect(m('confab_live_deliveries_total', { field: 'notifications' })).toBe(1);
      expect(m('confab_pubsub_lag_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(m('confab_db_query_duration_seconds_count', { statement: 'SELECT' })).toBeGreaterThan(0);
      expect(m('confab_webhook_deliveries', { status: 'PENDING' })).toBe(0);
      expect(m('confab_webhook_deliveries', { status: 'FAILED' })).toBe(0);
      expect(m('confab_webhook_worker_last_pass_timestamp_seconds')).toBeGreaterThan(0);
      expect(m('confab_invoices_pending')).toBe(0);
      expect(m('confab_payment_worker_last_sweep_ok')).toBe(1);
      expect(m('process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(m('nodejs_eventloop_lag_seconds')).toBeDefined();
    });

    sub.close();
    await eventually(async () => expect((await scrape(server.origin))('confab_ws_subscriptions', { field: 'notifications' })).toBe(0));
    await client.dispose();
    await eventually(async () => expect((await scrape(server.origin))('confab_ws_connections')).toBe(0));
  });

  it('counts a refused subscription as an error, not as active', async () => {
    const sub = subscribe(server.ws(), Live);
    expect((await sub.rejection())?.extensions?.code).toBe('UNAUTHENTICATED');
    const m = await scrape(server.origin);
    expect(m('confab_graphql_operations_total', { operation_name: 'OpsLive', outcome: 'error' })).toBeGreaterThanOrEqual(1);
    expect(m('confab_ws_subscriptions', { field: 'notifications' }) ?? 0).toBe(0);
  });

  it('asks for the bearer token when one is configured, and is absent when metrics are off', async () => {
    const guarded = await startServer({ overrides: { metrics: { token: 'scrape-me-please' } } });
    expect((await fetch(`${guarded.origin}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${guarded.origin}/metrics`, { headers: { authorization: 'Bearer scrape-me-pleasf' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    const right = await fetch(`${guarded.origin}/metrics`, { headers: { authorization: 'Bearer scrape-me-please' } });
    expect(right.status).toBe(200);
    expect(right.headers.get('content-type')).toContain('text/plain');
    expect(await right.text()).toContain('confab_ws_connections 0');
    await guarded.stop();

    const off = await startServer({ overrides: { metrics: { enabled: false } } });
    expect((await fetch(`${off.origin}/metrics`)).status).toBe(404);
    await off.stop();
  });

  it('keeps one registry per app: two apps in one process both report', async () => {
    const second = await startServer();
    await second.ok(`{ __typename }`);
    expect((await scrape(second.origin))('confab_graphql_operations_total', { operation_name: 'Anonymous', outcome: 'ok' })).toBe(1);
    await second.stop();
  });
});

describe('security headers', () => {
  const SECURITY = ['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy'];
  const expectHeaders = (res: Response, what: string) => {
    for (const h of SECURITY) expect(res.headers.get(h), `${what}: ${h}`).toBeTruthy();
    expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(res.headers.get('x-frame-options'), what).toBe('DENY');
    expect(res.headers.get('referrer-policy'), what).toBe('no-referrer');
    expect(res.headers.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
    expect(res.headers.get('strict-transport-security'), what).toBeNull();
  };

  it('are on GraphQL, GraphiQL, routes, /app, /health, /metrics, /v1 and error responses', async () => {
    const o = server.origin;
    const json = { 'content-type': 'application/json' };
    const responses: [string, Response][] = [
      ['graphql', await fetch(`${o}/graphql`, { method: 'POST', headers: json, body: JSON.stringify({ query: '{ __typename }' }) })],
      ['graphql error', await fetch(`${o}/graphql`, { method: 'POST', headers: json, body: '{ nope' })],
      ['415', await fetch(`${o}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })],
      ['graphiql', await fetch(`${o}/graphql`, { headers: { accept: 'text/html' } })],
      ['graphiql asset', await fetch(`${o}/graphiql/boot.js?v=1`)],
      ['health', await fetch(`${o}/health`)],
      ['metrics', await fetch(`${o}/metrics`)],
      ['app', await fetch(`${o}/app/`)],
      ['redirect', await fetch(`${o}/`, { redirect: 'manual' })],
      ['v1 401', await fetch(`${o}/v1/models`)],
      ['404', await fetch(`${o}/nothing-here`)],
    ];
    for (const [what, res] of responses) expectHeaders(res, `${what} (${res.status})`);
  });

  it('GraphiQL has no inline script, so the CSP needs no unsafe-inline for scripts', async () => {
    const res = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(2);
    for (const [, attrs, body] of scripts) expect(/src=|type="application\/json"/.test(attrs) || !body.trim(), attrs).toBe(true);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('adds HSTS only when a trusted proxy says the request came over HTTPS', async () => {
    const proxied = await startServer({ database: server.database, overrides: { server: { trustProxy: true } } });
    const viaTls = await fetch(`${proxied.origin}/health`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(viaTls.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect((await fetch(`${proxied.origin}/health`, { headers: { 'x-forwarded-proto': 'http' } })).headers.get('strict-transport-security')).toBeNull();
    await proxied.stop();
    // With a list of proxies, only a connection from one of them is believed.
    const listed = await startServer({ database: server.database, overrides: { server: { trustedProxies: ['10.0.0.0/8'] } } });
    expect((await fetch(`${listed.origin}/health`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
    await listed.stop();
    const loopback = await startServer({ database: server.database, overrides: { server: { trustedProxies: ['loopback'] } } });
    expect((await fetch(`${loopback.origin}/health`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBe('max-age=31536000');
    await loopback.stop();
    // Without trust_proxy, anyone could send the header: it is ignored.
    expect((await fetch(`${server.origin}/health`, { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull();
  });
});
