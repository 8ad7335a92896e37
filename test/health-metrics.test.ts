import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, orgWithMembers } from './helpers/fixtures.ts';
import { testDbKind } from './helpers/db.ts';
import { scrape } from './helpers/metrics.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';

const OrgQuery = `query HealthOrg($id: ID!) { org(id: $id) { id } }`;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { metrics: { maxOrgLabels: 2 } } });
});
afterAll(() => server.stop());

describe('/health', () => {
  it('carries the time it answered, in ISO 8601', async () => {
    const before = Date.now();
    const res = await fetch(`${server.origin}/health`);
    const body = (await res.json()) as { status: string; timestamp: string };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(body.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(body.timestamp)).toBeLessThanOrEqual(Date.now() + 1000);
  });
});

describe('/metrics', () => {
  it('counts requests per org by its credentials, with at most max_org_labels orgs labelled and the rest as other', async () => {
    const orgs = await Promise.all([0, 1, 2].map(() => orgWithMembers(server)));
    const keys = await Promise.all(orgs.map((o) => createApiKey(server, o.owner, o.org.id, ['READ'])));
    const ids = orgs.map((o) => decodeGlobalID(o.org.id).id);
    // 3 requests for the first org, 2 for the second, 1 for the third (which is past the limit of two labels).
    for (const [i, n] of [3, 2, 1].entries()) {
      for (let k = 0; k < n; k++) await server.ok(OrgQuery, { id: orgs[i].org.id }, { apiKey: keys[i].key });
    }
    // A user's own requests belong to no single org.
    await server.ok(OrgQuery, { id: orgs[0].org.id }, { token: orgs[0].owner.token });
    const m = await scrape(server.origin);
    expect(m('confab_org_requests_total', { org: ids[0] })).toBe(3);
    expect(m('confab_org_requests_total', { org: ids[1] })).toBe(2);
    expect(m('confab_org_requests_total', { org: ids[2] })).toBeUndefined();
    expect(m('confab_org_requests_total', { org: 'other' })).toBe(1);
    expect(m('confab_org_requests_total')).toBe(6);
  });

  it('reports the database pool, and the SQLite WAL size', async () => {
    const m = await scrape(server.origin);
    const total = m('confab_db_pool_connections', { state: 'total' })!;
    expect(m('confab_db_pool_waiting')).toBe(0);
    if (testDbKind() === 'sqlite') {
      expect(total).toBe(1);
      expect(m('confab_db_pool_connections', { state: 'idle' })).toBeUndefined();
      // The writes above went through the WAL (it is checkpointed, not emptied, so it is not empty).
      expect(m('confab_sqlite_wal_bytes')).toBeGreaterThan(0);
    } else {
      expect(total).toBeGreaterThanOrEqual(1);
      const idle = m('confab_db_pool_connections', { state: 'idle' })!;
      expect(idle).toBeGreaterThanOrEqual(0);
      expect(idle).toBeLessThanOrEqual(total);
      expect(m('confab_sqlite_wal_bytes')).toBeUndefined();
    }
  });
});
