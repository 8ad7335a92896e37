import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createTestDatabase, testDbKind, TEST_POSTGRES_URL } from './helpers/db.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { startServer } from './helpers/server.ts';

const OrgName = graphql(`query HealthDownOrg($id: ID!) { org(id: $id) { name } }`);

// Its own file: the process has one database client, and this test pulls the database away.
describe.skipIf(testDbKind() !== 'postgresql')('when the database goes away', () => {
  it('health and ready answer 503, and errors are masked in production', async () => {
    const database = await createTestDatabase();
    const prod = await startServer({ database, overrides: { env: 'production', auth: { secretKey: 'p'.repeat(40) } } });
    const { owner, org } = await orgWithMembers(prod);
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    const res = await fetch(`${prod.origin}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', database: { kind: 'postgresql', ok: false } });
    expect((await fetch(`${prod.origin}/ready`)).status).toBe(503);
    const q = await prod.gql(OrgName, { id: org.id }, { token: owner.token });
    expect(q.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(q.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(q)).not.toMatch(/prisma|ECONN|does not exist|originalError/i);
  });
});
