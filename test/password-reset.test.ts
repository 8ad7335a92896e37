/**
 * Password change and reset (issue 22, accounts): a reset link mailed through a real SMTP server on loopback
 * (smtp-server), single use and short-lived tokens, the same answer for unknown emails, limits, and every
 * other login (access tokens, refresh tokens, open sockets) ended by a change or a reset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { connectSocket, overSocket } from './helpers/accounts.ts';
import { startFakeSmtp, type FakeSmtp } from './helpers/fake-smtp.ts';
import { PASSWORD, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const RequestReset = graphql(`
  mutation ResetRequest($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }
`);
const Reset = graphql(`
  mutation ResetReset($input: ResetPasswordInput!) { resetPassword(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email } } }
`);
const Change = graphql(`
  mutation ResetChange($input: ChangePasswordInput!) { changePassword(input: $input) { accessToken refreshToken user { id } } }
`);
const Login = graphql(`
  mutation ResetLogin($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }
`);
const Refresh = graphql(`
  mutation ResetRefresh($input: RefreshAccessTokenInput!) { refreshAccessToken(input: $input) { accessToken } }
`);
const Me = graphql(`query ResetMe { me { id emailVerified } }`);

let smtp: FakeSmtp;
let server: TestServer;
let now = Date.now();

beforeAll(async () => {
  smtp = await startFakeSmtp();
  server = await startServer({
    overrides: { mail: { smtpUrl: smtp.url, from: 'Confab <no-reply@confab.test>' }, auth: { passwordResetTtlSec: 600, loginMaxAttempts: 3 } },
    clock: () => new Date(now),
  });
});
afterAll(async () => {
  await server?.stop();
  await smtp?.stop();
});

async function mailedToken(email: string): Promise<string> {
  expect(await server.ok(RequestReset, { input: { email } })).toEqual({ requestPasswordReset: { accepted: true } });
  const mail = await smtp.next(email, 'reset');
  expect(mail.token).toMatch(/^cfp_[\w-]{43}$/);
  return mail.token!;
}

describe('password reset by mail', () => {
  it('mails a link to the web client; the token sets a new password, signs in, verifies the email and ends every other login', async () => {
    const user = await registerUser(server);
    const socket = connectSocket(server, { token: user.token });
    await socket.acknowledged;

    expect(await server.ok(RequestReset, { input: { email: user.email.toUpperCase() } })).toEqual({ requestPasswordReset: { accepted: true } });
    const mail = await smtp.next(user.email, 'reset');
    expect(mail.from).toBe('no-reply@confab.test');
    expect(mail.link).toBe(`${server.origin}/app/#/reset?token=${mail.token}`);
    expect(mail.raw).toMatch(/^Subject: .+$/m);

    const { resetPassword } = await server.ok(Reset, { input: { token: mail.token!, newPassword: 'a brand new password' } });
    expect(resetPassword.user).toEqual({ id: user.id, email: user.email });
    // Every earlier login is over: the socket closes, the access token and the refresh token are refused.
    expect((await socket.closed).code).toBe(4403);
    expect(await server.errorCode(Me, {}, { token: user.token })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Refresh, { input: { refreshToken: user.refreshToken } })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Login, { input: { email: user.email, password: PASSWORD } })).toBe('UNAUTHENTICATED');
    await server.ok(Login, { input: { email: user.email, password: 'a brand new password' } });
    // The mail reached the address: it counts as verified.
    expect(await server.ok(Me, {}, { token: resetPassword.accessToken })).toEqual({ me: { id: user.id, emailVerified: true } });

    // Single use.
    const again = await server.gql(Reset, { input: { token: mail.token!, newPassword: 'yet another password' } });
    expect(again.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
  });

  it('answers an unknown email exactly as a known one, and mails nobody', async () => {
    const unknown = `nobody-${Date.now()}@example.com`;
    const res = await server.gql(RequestReset, { input: { email: unknown } });
    expect(res).toMatchObject({ status: 200, data: { requestPasswordReset: { accepted: true } } });
    expect(res.errors).toBeUndefined();
    // A known address asked after it gets its mail; the unknown one still has none.
    const user = await registerUser(server);
    await mailedToken(user.email);
    await smtp.expectNone(unknown, 'reset', 200);
  });

  it('answers without waiting for the mail: a mail server that sits on the message does not hold the answer up', async () => {
    const user = await registerUser(server);
    await smtp.next(user.email, 'verify');
    smtp.hold();
    try {
      const answer = server.ok(RequestReset, { input: { email: user.email } });
      // The mail reached the server, which does not answer it: the mutation's answer comes all the same.
      await smtp.holding();
      expect(await answer).toEqual({ requestPasswordReset: { accepted: true } });
    } finally {
      smtp.release();
    }
    expect((await smtp.next(user.email, 'reset')).token).toMatch(/^cfp_/);
  });

  it('refuses an expired token with GONE and an unknown one with BAD_USER_INPUT, changing nothing', async () => {
    const user = await registerUser(server);
    const token = await mailedToken(user.email);
    now += 601_000;
    try {
      const expired = await server.gql(Reset, { input: { token, newPassword: 'a brand new password' } });
      expect(expired.errors?.[0].extensions?.code).toBe('GONE');
    } finally {
      now -= 601_000;
    }
    const unknown = await server.gql(Reset, { input: { token: `${token.slice(0, -2)}xx`, newPassword: 'a brand new password' } });
    expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    // A new password that breaks the rules is refused before the token is used.
    const short = await server.gql(Reset, { input: { token, newPassword: 'short' } });
    expect(short.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    // Nothing changed: the old password and the old login still work, and the token still does once.
    await server.ok(Login, { input: { email: user.email, password: PASSWORD } });
    await server.ok(Me, {}, { token: user.token });
    await server.ok(Reset, { input: { token, newPassword: 'a brand new password' } });
  });

  it('lets exactly one of two resets with one token win', async () => {
    const user = await registerUser(server);
    const token = await mailedToken(user.email);
    const results = await Promise.all(
      ['first new password', 'second new password'].map((newPassword) => server.gql(Reset, { input: { token, newPassword } })),
    );
    const won = results.filter((r) => r.data?.resetPassword);
    expect(won).toHaveLength(1);
    expect(results.find((r) => r.errors)?.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
    const winner = results.indexOf(won[0]) === 0 ? 'first new password' : 'second new password';
    await server.ok(Login, { input: { email: user.email, password: winner } });
  });

  it('limits requests per email (RATE_LIMITED), mailing no more than the limit', async () => {
    const user = await registerUser(server);
    const results = await Promise.all(Array.from({ length: 7 }, () => server.gql(RequestReset, { input: { email: user.email } })));
    expect(results.filter((r) => r.data?.requestPasswordReset?.accepted)).toHaveLength(5);
    expect(results.filter((r) => r.errors?.[0].extensions?.code === 'RATE_LIMITED')).toHaveLength(2);
    for (let i = 0; i < 5; i++) await smtp.next(user.email, 'reset');
    await smtp.expectNone(user.email, 'reset', 200);
  });
});

describe('changePassword', () => {
  it('needs the current password, ends every other login and socket, and answers a new login', async () => {
    const user = await registerUser(server);
    const other = (await server.ok(Login, { input: { email: user.email, password: PASSWORD } })).login;
    const device = connectSocket(server, { token: other.accessToken });
    await device.acknowledged;
    expect(await overSocket(device.client, Me)).toMatchObject({ data: { me: { id: user.id } } });

    const { changePassword } = await server.ok(Change, { input: { currentPassword: PASSWORD, newPassword: 'changed password!' } }, { token: user.token });
    expect(changePassword.user.id).toBe(user.id);
    expect((await device.closed).code).toBe(4403);
    for (const token of [user.token, other.accessToken]) expect(await server.errorCode(Me, {}, { token })).toBe('UNAUTHENTICATED');
    for (const refreshToken of [user.refreshToken, other.refreshToken]) expect(await server.errorCode(Refresh, { input: { refreshToken } })).toBe('UNAUTHENTICATED');
    // The new login works, and so does its refresh token.
    await server.ok(Me, {}, { token: changePassword.accessToken });
    await server.ok(Refresh, { input: { refreshToken: changePassword.refreshToken } });
    await server.ok(Login, { input: { email: user.email, password: 'changed password!' } });
  });

  it('refuses a wrong current password with BAD_USER_INPUT, counted by the login throttle', async () => {
    const user = await registerUser(server);
    const wrong = () => server.gql(Change, { input: { currentPassword: 'not my password', newPassword: 'changed password!' } }, { token: user.token });
    for (let i = 0; i < 3; i++) expect((await wrong()).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    expect((await wrong()).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    // So is login for this email now, even with the right password; the password did not change.
    expect(await server.errorCode(Login, { input: { email: user.email, password: PASSWORD } })).toBe('RATE_LIMITED');
    await server.ok(Me, {}, { token: user.token });
  });

  it('lets exactly one of two changes at once win', async () => {
    const user = await registerUser(server);
    const results = await Promise.all(
      ['first change!!', 'second change!!'].map((newPassword) => server.gql(Change, { input: { currentPassword: PASSWORD, newPassword } }, { token: user.token })),
    );
    const won = results.filter((r) => r.data?.changePassword);
    expect(won).toHaveLength(1);
    expect(results.find((r) => r.errors)?.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const winner = results.indexOf(won[0]) === 0 ? 'first change!!' : 'second change!!';
    await server.ok(Login, { input: { email: user.email, password: winner } });
    await server.ok(Me, {}, { token: won[0].data!.changePassword.accessToken });
  });

  it('applies the new password rules and refuses anonymous callers', async () => {
    const user = await registerUser(server);
    const short = await server.gql(Change, { input: { currentPassword: PASSWORD, newPassword: 'short' } }, { token: user.token });
    expect(short.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });
    expect(await server.errorCode(Change, { input: { currentPassword: PASSWORD, newPassword: 'changed password!' } })).toBe('UNAUTHENTICATED');
    await server.ok(Me, {}, { token: user.token });
  });
});
