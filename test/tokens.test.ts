import { createHmac, hkdfSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { PASSWORD, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Me = graphql(`query TokensMe { me { id } }`);
const Refresh = graphql(`
  mutation TokensRefresh($input: RefreshAccessTokenInput!) { refreshAccessToken(input: $input) { accessToken refreshToken user { id } } }
`);
const Logout = graphql(`mutation TokensLogout($input: LogoutInput!) { logout(input: $input) { revoked } }`);
const Login = graphql(`mutation TokensLogin($input: LoginInput!) { login(input: $input) { refreshToken } }`);

let server: TestServer;
let user: TestUser;
beforeAll(async () => {
  server = await startServer({ overrides: { auth: { loginMaxAttempts: 3 } } });
  user = await registerUser(server);
});

/** Signs like the server does (same derived key) unless told otherwise, to tamper with one thing at a time. */
async function forge(opts: { secret?: string; audience?: string; issuer?: string; exp?: number; sub?: string; typ?: string; nbf?: number }) {
  const key = new Uint8Array(hkdfSync('sha256', opts.secret ?? server.config.auth.secretKey, 'confab', 'access-token-signing', 32));
  const jwt = new SignJWT({ typ: opts.typ ?? 'access' }).setProtectedHeader({ alg: 'HS256' });
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt
    .setSubject(opts.sub ?? Buffer.from(user.id, 'base64').toString().split(':')[1])
    .setIssuer(opts.issuer ?? server.config.auth.issuer)
    .setAudience(opts.audience ?? server.config.auth.audience)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 60)
    .sign(key);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('access tokens', () => {
  it('accepts a token signed like the server signs', async () => {
    const { me } = await server.ok(Me, {}, { token: await forge({}) });
    expect(me?.id).toBe(user.id);
  });

  it.each([
    ['expired', () => forge({ exp: Math.floor(Date.now() / 1000) - 10 }), 'TOKEN_EXPIRED'],
    ['signed with another key', () => forge({ secret: 'x'.repeat(40) }), 'TOKEN_INVALID'],
    ['for another audience', () => forge({ audience: 'someone-else' }), 'TOKEN_INVALID'],
    ['from another issuer', () => forge({ issuer: 'evil' }), 'TOKEN_INVALID'],
    ['not an access token', () => forge({ typ: 'refresh' }), 'TOKEN_INVALID'],
    ['for a user that does not exist', () => forge({ sub: 'nobody' }), 'TOKEN_INVALID'],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${(await forge({})).split('.')[1]}.`, 'TOKEN_INVALID'],
    ['garbage', async () => 'not.a.jwt', 'TOKEN_INVALID'],
    ['not valid yet (nbf)', () => forge({ nbf: Math.floor(Date.now() / 1000) + 60 }), 'TOKEN_INVALID'],
    ['with a critical header it does not know', async () => {
      // jose will not sign one: signed by hand, with the server's key.
      const [, p] = (await forge({})).split('.');
      const h = b64({ alg: 'HS256', crit: ['x-extra'], 'x-extra': 1 });
      const key = hkdfSync('sha256', server.config.auth.secretKey, 'confab', 'access-token-signing', 32);
      return `${h}.${p}.${createHmac('sha256', Buffer.from(key)).update(`${h}.${p}`).digest('base64url')}`;
    }, 'TOKEN_INVALID'],
    ['whose claims were swapped under the signature', async () => {
      const [h, , sig] = (await forge({})).split('.');
      return `${h}.${(await forge({ sub: 'someone-else' })).split('.')[1]}.${sig}`;
    }, 'TOKEN_INVALID'],
    ['whose signature has one bit flipped', async () => {
      const [h, p, sig] = (await forge({})).split('.');
      return `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    }, 'TOKEN_INVALID'],
  ])('refuses a token %s with UNAUTHENTICATED', async (_label, make, reason) => {
    const res = await server.gql(Me, {}, { token: await make() });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    expect(res.data ?? null).toBeNull();
  });
});

describe('refresh tokens', () => {
  it('rotate on use; reuse of a rotated token revokes the whole family', async () => {
    const first = await server.ok(Refresh, { input: { refreshToken: user.refreshToken } });
    const second = await server.ok(Refresh, { input: { refreshToken: first.refreshAccessToken.refreshToken } });
    expect(second.refreshAccessToken.user.id).toBe(user.id);
    const reuse = await server.gql(Refresh, { input: { refreshToken: user.refreshToken } });
    expect(reuse.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_REUSED' });
    // The newest token of the family is dead too.
    const after = await server.gql(Refresh, { input: { refreshToken: second.refreshAccessToken.refreshToken } });
    expect(after.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REFRESH_REVOKED' });
  });

  it('logout revokes the login; other logins stay valid unless everywhere', async () => {
    const u = await registerUser(server);
    const { login: other } = await server.ok(Login, { input: { email: u.email, password: PASSWORD } });
    expect((await server.ok(Logout, { input: { refreshToken: u.refreshToken } })).logout.revoked).toBe(true);
    expect(await server.errorCode(Refresh, { input: { refreshToken: u.refreshToken } })).toBe('UNAUTHENTICATED');
    const { login: third } = await server.ok(Login, { input: { email: u.email, password: PASSWORD } });
    await server.ok(Logout, { input: { refreshToken: third.refreshToken, everywhere: true } });
    expect(await server.errorCode(Refresh, { input: { refreshToken: other.refreshToken } })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Refresh, { input: { refreshToken: 'cfr_made_up' } })).toBe('UNAUTHENTICATED');
  });
});

describe('login rate limit', () => {
  it('locks an email after repeated failures, even for the right password', async () => {
    const u = await registerUser(server);
    for (let i = 0; i < 3; i++) {
      expect(await server.errorCode(Login, { input: { email: u.email, password: 'wrong password' } })).toBe('UNAUTHENTICATED');
    }
    const res = await server.gql(Login, { input: { email: u.email, password: PASSWORD } });
    expect(res.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(res.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    // Another account is not affected.
    const v = await registerUser(server);
    await server.ok(Login, { input: { email: v.email, password: PASSWORD } });
  });
});
