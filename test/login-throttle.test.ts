import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { PASSWORD, registerUser } from './helpers/fixtures.ts';
import { startServer, twoInstances, type TestServer } from './helpers/server.ts';

/**
 * Login throttling when attempts race (issue 17, item 6). Each attempt is counted before its password is
 * checked, atomically, so that 40 wrong passwords sent at once for one email are not all checked against
 * a limit of 10. "Checked" shows in the answers: a checked wrong password answers UNAUTHENTICATED, a
 * refused attempt RATE_LIMITED without a look at the password.
 */
const Login = graphql(`mutation ThrottleLogin($input: LoginInput!) { login(input: $input) { accessToken } }`);

const MAX = 10;
let next = 1;
/** A client address of its own per scenario (servers trust one proxy hop), so address limits never mix. */
const from = () => ({ headers: { 'x-forwarded-for': `198.51.100.${next++}` } });
// Hashing as slow as a cheap production setting, so that a check-then-count race has room to show.
const overrides = { server: { trustedProxies: 1 }, auth: { loginMaxAttempts: MAX, passwordHashCost: 14 } };

type Answer = { errors?: readonly { extensions?: Record<string, unknown> }[] };
const codes = (answers: Answer[]) => {
  const count: Record<string, number> = { UNAUTHENTICATED: 0, RATE_LIMITED: 0 };
  for (const a of answers) {
    const code = (a.errors?.[0]?.extensions?.code as string | undefined) ?? 'OK';
    count[code] = (count[code] ?? 0) + 1;
  }
  return count;
};

/** `n` wrong-password logins for `email` sent at once, spread over `servers`. */
const burst = (servers: TestServer[], email: string, n: number, address = from()) =>
  Promise.all(Array.from({ length: n }, (_, i) => servers[i % servers.length].gql(Login, { input: { email, password: `wrong password ${i}` } }, address)));

describe('login throttle in one process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ overrides });
  });
  afterAll(() => server.stop());

  it('checks at most 10 of 40 concurrent wrong passwords for one email; the right one right after is refused', async () => {
    const user = await registerUser(server);
    const count = codes(await burst([server], user.email, 40));
    expect(count.UNAUTHENTICATED).toBeLessThanOrEqual(MAX);
    expect(count.RATE_LIMITED).toBeGreaterThanOrEqual(40 - MAX);
    expect(count.UNAUTHENTICATED + count.RATE_LIMITED).toBe(40);
    const right = await server.gql(Login, { input: { email: user.email, password: PASSWORD } }, from());
    expect(right.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });

  it('checks at most 50 of 70 concurrent attempts from one address, on as many emails', async () => {
    const address = from();
    const answers = await Promise.all(
      Array.from({ length: 70 }, (_, i) => server.gql(Login, { input: { email: `nobody-${randomUUID()}-${i}@example.com`, password: 'wrong password' } }, address)),
    );
    const count = codes(answers);
    expect(count.UNAUTHENTICATED).toBeLessThanOrEqual(MAX * 5);
    expect(count.RATE_LIMITED).toBeGreaterThanOrEqual(70 - MAX * 5);
  });

  it('a success gives its counts back: the email starts over, and logins that succeed do not use up the address', async () => {
    const user = await registerUser(server);
    const address = from();
    const wrong = () => server.gql(Login, { input: { email: user.email, password: 'wrong password' } }, address);
    for (let i = 0; i < MAX - 1; i++) expect((await wrong()).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await server.ok(Login, { input: { email: user.email, password: PASSWORD } }, address);
    for (let i = 0; i < MAX; i++) expect((await wrong()).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await wrong()).errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Over the address limit of 50 in successes alone: none of them counts.
    const other = await registerUser(server);
    for (let i = 0; i < MAX * 5 + 5; i++) await server.ok(Login, { input: { email: other.email, password: PASSWORD } }, address);
  });
});

describe.skipIf(!process.env.TEST_REDIS_URL)('login throttle across two instances sharing Redis', () => {
  // A key prefix of this run's own, so counters left by earlier runs do not count.
  const servers = twoInstances({ ...overrides, redis: { keyPrefix: `confab-test-login-${randomUUID()}:` } });

  it('checks at most 10 of 40 concurrent wrong passwords sent to both; the right one is refused on either', async () => {
    const { a, b } = servers;
    const user = await registerUser(a);
    const count = codes(await burst([a, b], user.email, 40));
    expect(count.UNAUTHENTICATED).toBeLessThanOrEqual(MAX);
    expect(count.RATE_LIMITED).toBeGreaterThanOrEqual(40 - MAX);
    for (const server of [a, b]) {
      const right = await server.gql(Login, { input: { email: user.email, password: PASSWORD } }, from());
      expect(right.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    }
  });
});
