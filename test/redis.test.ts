import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createTestDatabase } from './helpers/db.ts';
import { orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Watch = graphql(`subscription RedisWatch($orgId: ID!) { membershipChanged(orgId: $orgId) { userId role } }`);
const Invite = graphql(`mutation RedisInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`);
const Accept = graphql(`mutation RedisAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { role } }`);
const Login = graphql(`mutation RedisLogin($input: LoginInput!) { login(input: $input) { accessToken } }`);

// Two instances on one database and one Redis, as behind a load balancer.
describe.skipIf(!process.env.TEST_REDIS_URL)('two instances sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const database = await createTestDatabase();
    // A key prefix of this run's own, so counters left by earlier runs (or other files) do not count.
    const keyPrefix = `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}:`;
    const overrides = { redis: { url: process.env.TEST_REDIS_URL, keyPrefix }, auth: { loginMaxAttempts: 4 } };
    a = await startServer({ database, overrides });
    b = await startServer({ database, overrides });
    return () => database.drop();
  });

  it('deliver an event published on one instance to a subscriber on the other', async () => {
    const { org, owner } = await orgWithMembers(a);
    const sub = subscribe(a.ws({ token: owner.token }), Watch, { orgId: org.id });
    await sub.expectSilence(200);
    const joiner = await registerUser(b);
    const { inviteMember } = await b.ok(Invite, { input: { orgId: org.id, email: joiner.email, role: 'ADMIN' } }, { token: owner.token });
    await b.ok(Accept, { input: { token: inviteMember.token } }, { token: joiner.token });
    expect((await sub.next()).data?.membershipChanged).toEqual({ userId: joiner.id, role: 'ADMIN' });
    sub.close();
  });

  it('count failed logins across instances', async () => {
    const user = await registerUser(a);
    const wrong = { input: { email: user.email, password: 'not the password' } };
    for (const server of [a, b, a, b]) expect(await server.errorCode(Login, wrong)).toBe('UNAUTHENTICATED');
    expect(await a.errorCode(Login, wrong)).toBe('RATE_LIMITED');
    expect(await b.errorCode(Login, wrong)).toBe('RATE_LIMITED');
  });
});
