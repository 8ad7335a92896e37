import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { printedDevSchema, printedSchema } from '../src/print-schema.ts';
import { graphql } from './gql/index.ts';
import { createGqlClient, subscribe } from './helpers/client.ts';
import { createTestDatabase, testDbKind } from './helpers/db.ts';
import { createOrg, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { spawnServer } from './helpers/process.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Watch = graphql(`subscription ServerWatch($orgId: ID!) { membershipChanged(orgId: $orgId) { userId } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { server: { corsOrigins: ['https://app.example.com'] } } });
});

describe('schema', () => {
  it('schema.graphql matches the Pothos schema (run `npm run schema:print` after changing it)', () => {
    const committed = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedSchema());
  });

  it('schema.dev.graphql holds the dev-only operations, and schema.graphql none of them (`npm run schema:print`)', () => {
    const committed = readFileSync(new URL('../schema.dev.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedDevSchema());
    expect(committed).toContain('extend type Mutation');
    expect(committed).toContain('settleDevInvoice(');
    expect(printedSchema()).not.toMatch(/settleDevInvoice|SettleDevInvoiceInput/);
  });
});

describe('health', () => {
  it('reports service, version, uptime and the database', async () => {
    const res = await fetch(`${server.origin}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'confab', version: expect.any(String), uptime: expect.any(Number), database: { kind: testDbKind(), ok: true } });
    expect((await fetch(`${server.origin}/ready`)).status).toBe(200);
  });
});

describe('storage', () => {
  it.skipIf(testDbKind() !== 'sqlite')('runs SQLite in WAL mode', async () => {
    await registerUser(server);
    expect(existsSync(`${server.database.url.slice('file:'.length)}-wal`)).toBe(true);
  });
});

describe('query limits', () => {
  it('refuse too deep, too many aliases and too many tokens with BAD_USER_INPUT', async () => {
    const level = 'members { edges { node { org { ';
    const deep = `{ me { orgs { edges { node { ${level.repeat(3)}id${' } } } }'.repeat(3)} } } } } }`;
    const aliases = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const tokens = `{ me { ${'id '.repeat(6000)} } }`;
    for (const query of [deep, aliases, tokens]) {
      const res = await server.gql(query);
      expect(res.errors?.[0]?.extensions?.code, res.errors?.[0]?.message).toBe('BAD_USER_INPUT');
      expect(res.data ?? null).toBeNull();
    }
    // A normal nested query passes.
    await server.ok(`{ me { orgs(first: 5) { edges { node { members(first: 5) { edges { node { user { id } } } } } } } } }`);
  });
});

describe('CORS', () => {
  it('answers preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const denied = await preflight('https://evil.example.com');
    expect(denied.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
  });
});

describe('WebSocket auth', () => {
  it('closes with 4403 on bad credentials', async () => {
    const client = server.ws({ token: 'not-a-token' });
    const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
    subscribe(client, Watch, { orgId: 'x' });
    expect(await closed).toBe(4403);
  });

  it('refuses subscriptions at start: anonymous → UNAUTHENTICATED, outsider → NOT_FOUND', async () => {
    const { org } = await orgWithMembers(server);
    const outsider = await registerUser(server);
    expect((await subscribe(server.ws(), Watch, { orgId: org.id }).rejection())?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await subscribe(server.ws({ token: outsider.token }), Watch, { orgId: org.id }).rejection())?.extensions?.code).toBe('NOT_FOUND');
    const bad = await subscribe(server.ws({ token: outsider.token }), `subscription { nope }`).rejection();
    expect(bad?.message).toMatch(/nope/);
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM closes open subscriptions with 1001 and exits 0', async () => {
    const database = await createTestDatabase();
    afterAll(() => database.drop());
    const proc = await spawnServer({ DATABASE_URL: database.url, CONFAB_SECRET_KEY: 's'.repeat(40), LOG_LEVEL: 'info' });
    const client = createGqlClient(`${proc.origin}/graphql`, `ws://127.0.0.1:${proc.port}/graphql`);
    const fake = { ...client, ok: client.ok } as unknown as TestServer;
    const owner = await registerUser(fake);
    const org = await createOrg(fake, owner);
    const ws = client.ws({ token: owner.token });
    const closed = new Promise<number>((resolve) => ws.on('closed', (e: any) => resolve(e.code)));
    const sub = subscribe(ws, Watch, { orgId: org.id });
    await sub.expectSilence(200);
    proc.child.kill('SIGTERM');
    expect(await closed).toBe(1001);
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('confab stopped');
  });
});

describe('configuration', () => {
  it('reads confab.toml (snake_case), lets the environment win, and reports bad values by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'confab-cfg-'));
    const file = join(dir, 'confab.toml');
    writeFileSync(file, '[server]\nport = 5001\ncors_origins = ["https://a.example"]\n[log]\nlevel = "debug"\n');
    const config = loadConfig({ env: { LOG_LEVEL: 'warn' }, file });
    expect(config.server).toMatchObject({ port: 5001, corsOrigins: ['https://a.example'] });
    expect(config.log.level).toBe('warn');
    expect(() => loadConfig({ env: { CONFAB_PORT: 'eighty' }, file: false })).toThrow(/server\.port \(env CONFAB_PORT\)/);
    expect(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' }, file: false })).toThrow(/database\.url/);
    expect(loadConfig({ env: { CONFAB_MIGRATE: 'false' }, file: false }).database.migrate).toBe(false);
    expect(() => loadConfig({ env: { CONFAB_MIGRATE: 'maybe' }, file: false })).toThrow(/database\.migrate \(env CONFAB_MIGRATE\)/);
    writeFileSync(file, '[server\nport = ');
    expect(() => loadConfig({ env: {}, file })).toThrow(ConfigError);
  });

  it('accepts the shipped confab.example.toml', () => {
    const config = loadConfig({ env: {}, file: new URL('../confab.example.toml', import.meta.url).pathname });
    expect(config.server.corsOrigins).toEqual(['http://localhost:3000']);
  });

  it('refuses the insecure default secret in production', () => {
    expect(() => loadConfig({ env: { NODE_ENV: 'production' }, file: false })).toThrow(/CONFAB_SECRET_KEY/);
    expect(loadConfig({ env: { NODE_ENV: 'production', CONFAB_SECRET_KEY: 'k'.repeat(32) }, file: false }).env).toBe('production');
  });
});
