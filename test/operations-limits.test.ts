import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from './helpers/client.ts';
import { createApiKey, createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { scrape } from './helpers/metrics.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { tcpProxy } from './helpers/tcp-proxy.ts';
import { graphql } from './gql/index.ts';

const Me = graphql(`query LimitsMe { me { email } }`);
const OrgName = graphql(`query LimitsOrg($id: ID!) { node(id: $id) { ... on Org { name } } }`);
const Live = graphql(`subscription LimitsLive { notifications { topic } }`);
const Notify = graphql(`mutation LimitsNotify($input: NotifyInput!) { notify(input: $input) { recipientCount } }`);

const WINDOW = 3600;
/** Fixtures are made on a server without limits; the limited servers share its database. */
let setup: TestServer;
let user: TestUser;
let other: TestUser;
let orgId: string;
let keyA: string;
let keyB: string;
let otherKey: string;
let otherOrgId: string;
beforeAll(async () => {
  setup = await startServer();
  user = await registerUser(setup);
  other = await registerUser(setup);
  orgId = (await createOrg(setup, user)).id;
  otherOrgId = (await createOrg(setup, other)).id;
  keyA = (await createApiKey(setup, user, orgId, ['READ', 'CHAT'])).key;
  keyB = (await createApiKey(setup, user, orgId, ['READ', 'CHAT'])).key;
  otherKey = (await createApiKey(setup, other, otherOrgId, ['READ', 'CHAT'])).key;
});

const limited = (perClient: number, perOrg: number, extra: Record<string, unknown> = {}) =>
  startServer({ database: setup.database, overrides: { rateLimit: { perClient, perOrg, windowSec: WINDOW }, ...extra } });

describe('the general request limit', () => {
  it('answers the client over its limit with 429, Retry-After and RATE_LIMITED + retryAfter; others keep theirs', async () => {
    const s = await limited(3, 0);
    for (let i = 0; i < 3; i++) await s.ok(Me, {}, { token: user.token });
    const refused = await s.gql(Me, {}, { token: user.token });
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    const retryAfter = refused.errors?.[0].extensions?.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW);
    expect(Number(refused.headers.get('retry-after'))).toBe(retryAfter);
    expect(refused.errors?.[0].extensions?.http).toBeUndefined();
    // Another user, and an anonymous caller (counted by address), have budgets of their own.
    await s.ok(Me, {}, { token: other.token });
    await s.ok(Me);
    await s.stop();
  });

  it('counts every API key of an org against the org limit; another org is not affected', async () => {
    const s = await limited(100, 4);
    await s.ok(OrgName, { id: orgId }, { apiKey: keyA });
    await s.ok(OrgName, { id: orgId }, { apiKey: keyA });
    await s.ok(OrgName, { id: orgId }, { apiKey: keyB });
    await s.ok(OrgName, { id: orgId }, { apiKey: keyB });
    const refused = await s.gql(OrgName, { id: orgId }, { apiKey: keyB });
    expect(refused.status).toBe(429);
    expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect(refused.errors?.[0].message).toContain('org');
    await s.ok(OrgName, { id: otherOrgId }, { apiKey: otherKey });
    await s.stop();
  });

  it('applies to the OpenAI-compatible /v1 routes, in OpenAI error shape with Retry-After', async () => {
    const s = await limited(2, 0);
    const models = () => fetch(`${s.origin}/v1/models`, { headers: { authorization: `Bearer ${keyA}` } });
    expect((await models()).status).toBe(200);
    expect((await models()).status).toBe(200);
    const refused = await models();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    const completion = await fetch(`${s.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(completion.status).toBe(429);
    await s.stop();
  });

  it('applies to each WebSocket subscribe; the refused operation ends, the socket stays usable', async () => {
    const s = await limited(2, 0);
    const client = s.ws({ token: user.token });
    const first = subscribe(client, Live);
    const second = subscribe(client, Live);
    const third = subscribe(client, Live);
    const rejected = await third.rejection();
    expect(rejected?.extensions?.code).toBe('RATE_LIMITED');
    expect(rejected?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(rejected?.extensions?.http).toBeUndefined();
    // The first two are live: nothing ended them.
    await first.expectSilence(200);
    await second.expectSilence(50);
    first.close();
    second.close();
    await s.stop();
  });

  it.skipIf(!process.env.TEST_REDIS_URL)('is shared by two instances through Redis', async () => {
    const redis = { url: process.env.TEST_REDIS_URL, keyPrefix: `confab-test-ops-${randomUUID()}:` };
    const a = await limited(4, 0, { redis });
    const b = await limited(4, 0, { redis });
    await a.ok(Me, {}, { token: other.token });
    await b.ok(Me, {}, { token: other.token });
    await a.ok(Me, {}, { token: other.token });
    await b.ok(Me, {}, { token: other.token });
    for (const s of [a, b]) {
      const refused = await s.gql(Me, {}, { token: other.token });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    }
    // A subscribe on either instance is counted against the same budget.
    const rejected = await subscribe(b.ws({ token: other.token }), Live).rejection();
    expect(rejected?.extensions?.code).toBe('RATE_LIMITED');
    await a.stop();
    await b.stop();
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('the general request limit when Redis goes away', () => {
  it('serves requests while the counters are unreachable (fails open), and limits again once Redis is back', async () => {
    const target = new URL(process.env.TEST_REDIS_URL!);
    const proxy = await tcpProxy(Number(target.port || 6379), target.hostname);
    const s = await limited(3, 0, { redis: { url: proxy.url('redis'), keyPrefix: `confab-test-ops-${randomUUID()}:` } });
    try {
      await s.ok(Me, {}, { token: other.token });
      await proxy.down();
      // Over the limit of 3, yet served: refusing everyone because a counter store is down would be worse.
      for (let i = 0; i < 5; i++) expect((await s.ok(Me, {}, { token: other.token })).me?.email).toBe(other.email);
      await proxy.up();
      let refused;
      for (let i = 0; i < 20 && !refused; i++) {
        const res = await s.gql(Me, {}, { token: other.token });
        if (res.status === 429) refused = res;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(refused?.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    } finally {
      await proxy.up().catch(() => undefined);
      await s.stop();
    }
  });
});

describe('trusted documents', () => {
  const MANIFEST = 'test/gql/persisted-documents.json';
  const hashOf = (doc: unknown) => ((doc as { __meta__?: { hash?: string } }).__meta__?.hash ?? '').replace(/^sha256:/, '');
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ database: setup.database, overrides: { security: { trustedDocuments: MANIFEST } } });
  });
  const post = (body: unknown, token = user.token) =>
    fetch(s.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  it("runs the manifest's operation sent by its hash (Apollo's persistedQuery or codegen's sha256: form)", async () => {
    expect(hashOf(Me)).toMatch(/^[0-9a-f]{64}$/);
    const res = await post({ operationName: 'LimitsMe', extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(Me) } } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { me: { email: string } } }).data.me.email).toBe(user.email);
    const prefixed = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: `sha256:${hashOf(Me)}` } } });
    expect(((await prefixed.json()) as { data: unknown }).data).toEqual({ me: { email: user.email } });
  });

  it('refuses any other document with FORBIDDEN (TRUSTED_DOCUMENTS_ONLY), even one the manifest holds, and an unknown hash with BAD_USER_INPUT', async () => {
    for (const query of ['{ __typename }', String(Me)]) {
      const res = await post({ query });
      expect(res.status).toBe(403);
      const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'TRUSTED_DOCUMENTS_ONLY' });
    }
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'PERSISTED_QUERY_NOT_FOUND',
    });
  });

  it('turns GraphiQL and introspection off', async () => {
    expect(s.config.server.graphiql).toBe(false);
    expect(s.config.server.introspection).toBe(false);
    const page = await fetch(s.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
  });

  it('applies to WebSocket subscriptions: by hash they run, as text they are refused', async () => {
    const client = s.ws({ token: user.token });
    const refused = subscribe(client, Live);
    expect((await refused.rejection())?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'TRUSTED_DOCUMENTS_ONLY' });
    let stop = () => {};
    const event = new Promise<unknown>((resolve, reject) => {
      stop = client.subscribe(
        { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(Live) } } },
        { next: resolve, error: reject, complete: () => reject(new Error('completed without an event')) },
      );
    });
    // Live once the server counts it (metrics), then a notification sent by hash reaches it.
    for (let i = 0; (await scrape(s.origin))('confab_ws_subscriptions', { field: 'notifications' }) !== 1; i++) {
      if (i > 200) throw new Error('subscription never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const input = { orgId, topic: 'trusted', payload: {}, targets: { userIds: [user.id] } };
    const sent = await post({ variables: { input }, extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(Notify) } } });
    expect(((await sent.json()) as { data: unknown }).data).toEqual({ notify: { recipientCount: 1 } });
    expect(await event).toEqual({ data: { notifications: { topic: 'trusted' } } });
    stop();
  });
});
