/**
 * Email verification and the registration switch (issue 22, accounts): register mails a verification link;
 * with auth.require_verified_email an unverified user reaches only the account operations, over HTTP and
 * graphql-ws alike; with auth.enable_registration off only an invite's holder may sign up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { connectSocket, overSocket } from './helpers/accounts.ts';
import { subscribe } from './helpers/client.ts';
import { startFakeSmtp, type FakeSmtp } from './helpers/fake-smtp.ts';
import { createOrg, PASSWORD, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Register = graphql(`
  mutation VerifyRegister($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }
`);
const RequestVerification = graphql(`
  mutation VerifyRequest($input: RequestEmailVerificationInput!) { requestEmailVerification(input: $input) { accepted } }
`);
const Verify = graphql(`
  mutation VerifyVerify($input: VerifyEmailInput!) { verifyEmail(input: $input) { id emailVerified } }
`);
const Me = graphql(`query VerifyMe { me { id email emailVerified } }`);
const CreateOrgDoc = graphql(`
  mutation VerifyCreateOrg($input: CreateOrgInput!) { createOrg(input: $input) { id } }
`);
const Invite = graphql(`
  mutation VerifyInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token } }
`);
const RevokeInvite = graphql(`
  mutation VerifyRevokeInvite($input: RevokeInviteInput!) { revokeInvite(input: $input) { id } }
`);
const MyOrgs = graphql(`query VerifyMyOrgs { me { orgs(first: 5) { edges { node { id } } } } }`);
const Models = graphql(`query VerifyModels { models { id } }`);
const Notifications = graphql(`subscription VerifyNotifications { notifications { id } }`);

let smtp: FakeSmtp;
let now = Date.now();
let strict: TestServer;
let closed: TestServer;

beforeAll(async () => {
  smtp = await startFakeSmtp();
  strict = await startServer({ overrides: { mail: { smtpUrl: smtp.url }, auth: { requireVerifiedEmail: true, emailVerificationTtlSec: 600 } }, clock: () => new Date(now) });
  // The same database (the process has one database client), another configuration.
  closed = await startServer({ database: strict.database, overrides: { auth: { enableRegistration: false } } });
});
afterAll(async () => {
  await closed?.stop();
  await strict?.stop();
  await smtp?.stop();
});

const fresh = () => `v-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}@example.com`;

describe('email verification', () => {
  it('register mails a link; until it is used only the account operations work, over HTTP and graphql-ws', async () => {
    const user = await registerUser(strict);
    const mail = await smtp.next(user.email, 'verify');
    expect(mail.link).toBe(`${strict.origin}/app/#/verify?token=${mail.token}`);
    expect(await strict.ok(Me, {}, { token: user.token })).toEqual({ me: { id: user.id, email: user.email, emailVerified: false } });

    const refused = await strict.gql(CreateOrgDoc, { input: { name: 'x', slug: `s-${Date.now().toString(36)}` } }, { token: user.token });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_UNVERIFIED' });
    expect(refused.data ?? null).toBeNull();
    // Over a socket too: a query, and a subscription (refused before it starts).
    const socket = connectSocket(strict, { token: user.token });
    await socket.acknowledged;
    expect((await overSocket(socket.client, Models)).errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_UNVERIFIED' });
    expect((await subscribe(socket.client, Notifications).rejection())?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'EMAIL_UNVERIFIED' });
    expect((await overSocket(socket.client, Me)).data).toMatchObject({ me: { emailVerified: false } });

    expect(await strict.ok(Verify, { input: { token: mail.token! } }, { token: user.token })).toEqual({ verifyEmail: { id: user.id, emailVerified: true } });
    // The same token, and the same socket, now reach everything.
    await strict.ok(CreateOrgDoc, { input: { name: 'x', slug: `s-${Date.now().toString(36)}` } }, { token: user.token });
    expect((await overSocket(socket.client, Models)).errors).toBeUndefined();
    const reused = await strict.gql(Verify, { input: { token: mail.token! } }, { token: user.token });
    expect(reused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
  });

  it('refuses an expired token (GONE), someone else’s (BAD_USER_INPUT), and keeps refusing until verified', async () => {
    const [a, b] = [await registerUser(strict), await registerUser(strict)];
    const [ma, mb] = [await smtp.next(a.email, 'verify'), await smtp.next(b.email, 'verify')];
    const theirs = await strict.gql(Verify, { input: { token: mb.token! } }, { token: a.token });
    expect(theirs.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    now += 601_000;
    try {
      expect((await strict.gql(Verify, { input: { token: ma.token! } }, { token: a.token })).errors?.[0].extensions?.code).toBe('GONE');
    } finally {
      now -= 601_000;
    }
    // A new link works; the other user's token still works for them.
    expect(await strict.ok(RequestVerification, { input: {} }, { token: a.token })).toEqual({ requestEmailVerification: { accepted: true } });
    const again = await smtp.next(a.email, 'verify');
    expect(again.token).not.toBe(ma.token);
    await strict.ok(Verify, { input: { token: again.token! } }, { token: a.token });
    await strict.ok(Verify, { input: { token: mb.token! } }, { token: b.token });
    // Verified: asking again mails nothing.
    await strict.ok(RequestVerification, { input: { email: a.email } }, { token: a.token });
    await smtp.expectNone(a.email, 'verify', 200);
  });

  it('requestEmailVerification: only for the signed-in user, for their own address, rate limited', async () => {
    const user = await registerUser(strict);
    await smtp.next(user.email, 'verify');
    expect(await strict.errorCode(RequestVerification, { input: {} })).toBe('UNAUTHENTICATED');
    const other = await strict.gql(RequestVerification, { input: { email: 'someone-else@example.com' } }, { token: user.token });
    expect(other.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'email' });
    const results = await Promise.all(Array.from({ length: 7 }, () => strict.gql(RequestVerification, { input: {} }, { token: user.token })));
    expect(results.filter((r) => r.data?.requestEmailVerification)).toHaveLength(5);
    expect(results.filter((r) => r.errors?.[0].extensions?.code === 'RATE_LIMITED')).toHaveLength(2);
  });
});

describe('closed registration (auth.enable_registration off)', () => {
  it('refuses register without an invite (FORBIDDEN, REGISTRATION_CLOSED), creating nothing', async () => {
    const email = fresh();
    const res = await closed.gql(Register, { input: { email, password: PASSWORD, name: 'N' } });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'REGISTRATION_CLOSED' });
    const bogus = await closed.gql(Register, { input: { email, password: PASSWORD, name: 'N', inviteToken: 'cfi_nothing' } });
    expect(bogus.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'REGISTRATION_CLOSED' });
  });

  it('takes a pending invite for that email and accepts it in the same step; not for another email, nor twice, nor revoked', async () => {
    const { owner, orgId } = await closedOrg();
    const email = fresh();
    const { inviteMember } = await closed.ok(Invite, { input: { orgId, email, role: 'MEMBER' } }, { token: owner.token });
    const elsewhere = await closed.gql(Register, { input: { email: fresh(), password: PASSWORD, name: 'N', inviteToken: inviteMember.token } });
    expect(elsewhere.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'REGISTRATION_CLOSED' });

    // Two registrations with one invite at once: one account, one membership.
    const both = await Promise.all([0, 1].map(() => closed.gql(Register, { input: { email, password: PASSWORD, name: 'Invited', inviteToken: inviteMember.token } })));
    const made = both.filter((r) => r.data?.register);
    expect(made).toHaveLength(1);
    const token = made[0].data!.register.accessToken;
    expect(await closed.ok(MyOrgs, {}, { token })).toEqual({ me: { orgs: { edges: [{ node: { id: orgId } }] } } });

    const revokedEmail = fresh();
    const revoked = (await closed.ok(Invite, { input: { orgId, email: revokedEmail, role: 'MEMBER' } }, { token: owner.token })).inviteMember;
    const { org } = await closed.ok(graphql(`query VerifyInvites($id: ID!) { org(id: $id) { invites(first: 10) { edges { node { id email } } } } }`), { id: orgId }, { token: owner.token });
    const inviteId = org!.invites.edges.find((e) => e.node.email === revokedEmail)!.node.id;
    await closed.ok(RevokeInvite, { input: { inviteId } }, { token: owner.token });
    const late = await closed.gql(Register, { input: { email: revokedEmail, password: PASSWORD, name: 'N', inviteToken: revoked.token } });
    expect(late.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'REGISTRATION_CLOSED' });
  });

  it('with registration open, an invite token is accepted at register, and a bad one is BAD_USER_INPUT', async () => {
    const user = await registerUser(strict);
    await smtp.next(user.email, 'verify');
    const bad = await strict.gql(Register, { input: { email: fresh(), password: PASSWORD, name: 'N', inviteToken: 'cfi_nothing' } });
    expect(bad.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inviteToken' });

    const orgId = (await createOrg(strict, { ...user, token: (await verified(user)).token })).id;
    const email = fresh();
    const { inviteMember } = await strict.ok(Invite, { input: { orgId, email, role: 'MEMBER' } }, { token: user.token });
    const { register } = await strict.ok(Register, { input: { email, password: PASSWORD, name: 'Invited', inviteToken: inviteMember.token } });
    expect(await strict.ok(MyOrgs, {}, { token: register.accessToken })).toEqual({ me: { orgs: { edges: [{ node: { id: orgId } }] } } });
    // A member now, but unverified: the OpenAI-compatible API refuses them as GraphQL does.
    const res = await fetch(`${strict.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${register.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Verify your email address first');
  });
});

/** Verifies the user's email with the mail register sent them (already taken from the fake server). */
async function verified(user: { email: string; token: string }) {
  await strict.ok(RequestVerification, { input: {} }, { token: user.token });
  const mail = await smtp.next(user.email, 'verify');
  await strict.ok(Verify, { input: { token: mail.token! } }, { token: user.token });
  return user;
}

/** An org on the closed server, whose owner registered on the open one (the same database). */
async function closedOrg() {
  const owner = await registerUser(strict);
  const org = await createOrg(closed, owner);
  return { owner, orgId: org.id };
}
