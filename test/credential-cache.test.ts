/**
 * The credential cache (src/auth/credential-cache.ts, issue 19): a token or API key that checked out is believed
 * for `auth.credential_cache_sec` without reading its row again, and a revocation ends that at once, on the
 * instance that made it and, over Redis, on the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Typename = graphql(`query CredCacheTypename { __typename }`);
const Org = graphql(`query CredCacheOrg($id: ID!) { org(id: $id) { id } }`);
const Logout = graphql(`mutation CredCacheLogout($input: LogoutInput!) { logout(input: $input) { revoked } }`);
const Revoke = graphql(`mutation CredCacheRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id } }`);

const reads = (server: TestServer, table: string) => server.queries.filter((q) => q.startsWith('SELECT') && new RegExp(`FROM [\`"](?:main|public)?[\`"]?\\.?[\`"]${table}[\`"]`).test(q)).length;

describe('one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ countQueries: true });
  });
  afterAll(() => server.stop());

  it('reads a token’s user once, then believes the token until it is revoked, and refuses it at once after', async () => {
    const user = await registerUser(server);
    await server.countFrom();
    await server.ok(Typename, {}, { token: user.token });
    expect(reads(server, 'User')).toBe(1);
    await server.countFrom();
    await server.ok(Typename, {}, { token: user.token });
    expect(server.queries).toEqual([]);

    await server.ok(Logout, { input: { refreshToken: user.refreshToken, everywhere: true } });
    const refused = await server.gql(Typename, {}, { token: user.token });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
  });

  it('reads an API key once, then believes it until it is revoked, and refuses it at once after', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { key, apiKey } = await createApiKey(server, owner, org.id, ['READ']);
    await server.ok(Org, { id: org.id }, { apiKey: key });
    await server.countFrom();
    await server.ok(Org, { id: org.id }, { apiKey: key });
    expect(reads(server, 'ApiKey')).toBe(0);

    await server.ok(Revoke, { input: { apiKeyId: apiKey.id } }, { token: owner.token });
    expect(await server.errorCode(Org, { id: org.id }, { apiKey: key })).toBe('UNAUTHENTICATED');
  });
});

describe('turned off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ countQueries: true, overrides: { auth: { credentialCacheSec: 0 } } });
  });
  afterAll(() => server.stop());

  it('reads the token’s user on every request', async () => {
    const user = await registerUser(server);
    await server.ok(Typename, {}, { token: user.token });
    await server.countFrom();
    await server.ok(Typename, {}, { token: user.token });
    expect(reads(server, 'User')).toBe(1);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('two instances on Redis', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase();
    const overrides = { redis: { url: process.env.TEST_REDIS_URL } };
    a = await startServer({ database, overrides });
    b = await startServer({ database, overrides, countQueries: true });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await database?.drop();
  });

  /** Asks `b` with the credential until it is refused (the revocation's event has arrived), at most 10 s; the refusal. */
  async function refusedOnB(auth: { token?: string; apiKey?: string }, variables: { id: string } | undefined) {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const r = variables ? await b.gql(Org, variables, auth) : await b.gql(Typename, {}, auth);
      if (r.errors) return r.errors[0];
      await new Promise((resolve) => setImmediate(resolve));
    }
    return undefined;
  }

  it('logout everywhere on one instance: the other, which believed the token, refuses it once the event arrives', async () => {
    const user = await registerUser(a);
    await b.ok(Typename, {}, { token: user.token });
    await b.countFrom();
    await b.ok(Typename, {}, { token: user.token });
    expect(b.queries).toEqual([]);

    await a.ok(Logout, { input: { refreshToken: user.refreshToken, everywhere: true } });
    expect((await refusedOnB({ token: user.token }, undefined))?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
  });

  it('an API key revoked on one instance: the other refuses it once the event arrives', async () => {
    const { org, owner } = await orgWithMembers(a);
    const { key, apiKey } = await createApiKey(a, owner, org.id, ['READ']);
    await b.ok(Org, { id: org.id }, { apiKey: key });
    await a.ok(Revoke, { input: { apiKeyId: apiKey.id } }, { token: owner.token });
    expect((await refusedOnB({ apiKey: key }, { id: org.id }))?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
