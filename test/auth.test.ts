import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers, PASSWORD, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Register = graphql(`
  mutation AuthRegister($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken user { id email name } }
  }
`);
const Login = graphql(`
  mutation AuthLogin($input: LoginInput!) {
    login(input: $input) { accessToken refreshToken user { id email } }
  }
`);
const Me = graphql(`
  query AuthMe { me { id email user { id name } } }
`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});

describe('register', () => {
  it('creates a user, lower-cases the email and returns working tokens', async () => {
    const { register } = await server.ok(Register, { input: { email: 'Ada@Example.COM', password: PASSWORD, name: 'Ada' } });
    expect(register.user.email).toBe('ada@example.com');
    const { me } = await server.ok(Me, {}, { token: register.accessToken });
    expect(me).toEqual({ id: register.user.id, email: 'ada@example.com', user: { id: register.user.id, name: 'Ada' } });
  });

  it('refuses a duplicate email whatever its case', async () => {
    await server.ok(Register, { input: { email: 'dup@example.com', password: PASSWORD, name: 'A' } });
    expect(await server.errorCode(Register, { input: { email: 'DUP@example.com', password: PASSWORD, name: 'B' } })).toBe('CONFLICT');
  });

  it.each([
    ['bad email', { email: 'not-an-email', password: PASSWORD, name: 'A' }],
    ['short password', { email: 'short@example.com', password: 'short', name: 'A' }],
    ['empty name', { email: 'noname@example.com', password: PASSWORD, name: '   ' }],
  ])('rejects %s with BAD_USER_INPUT and creates nothing', async (_label, input) => {
    expect(await server.errorCode(Register, { input })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Login, { input: { email: input.email, password: input.password } })).toBe('UNAUTHENTICATED');
  });
});

describe('login', () => {
  it('accepts the right password and rejects wrong password and unknown email alike', async () => {
    const user = await registerUser(server);
    const { login } = await server.ok(Login, { input: { email: user.email.toUpperCase(), password: PASSWORD } });
    expect(login.user.id).toBe(user.id);
    const wrong = await server.gql(Login, { input: { email: user.email, password: 'wrong password!' } });
    const unknown = await server.gql(Login, { input: { email: 'nobody@example.com', password: 'wrong password!' } });
    expect(wrong.errors?.[0]).toMatchObject({ message: 'Invalid email or password', extensions: { code: 'UNAUTHENTICATED' } });
    expect(unknown.errors?.[0]).toEqual(wrong.errors?.[0]);
  });
});

describe('me (Viewer) and User', () => {
  const Colleagues = graphql(`
    query AuthColleagues($id: ID!) {
      org(id: $id) { members(first: 10) { edges { node { user { id name email createdAt lastSeenAt presence } } } } }
    }
  `);
  const Mine = graphql(`
    query AuthViewer {
      me { id email user { id name } orgs(first: 5) { edges { node { id } } } rooms(first: 5) { edges { node { id } } } notifications(first: 5) { edges { node { id } } } trust { tier } }
    }
  `);

  it("holds the signed-in user's own data; every field of another User answers, none is FORBIDDEN", async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const { me } = await server.ok(Mine, {}, { token: members[0].token });
    expect(me).toMatchObject({ id: members[0].id, email: members[0].email, user: { id: members[0].id }, orgs: { edges: [{ node: { id: org.id } }] } });
    const res = await server.gql(Colleagues, { id: org.id }, { token: members[0].token });
    expect(res.errors).toBeUndefined();
    expect(res.data?.org?.members.edges.map((e) => e.node.user.id).sort()).toEqual([owner.id, members[0].id].sort());
  });

  it('is null for anonymous callers and API keys', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { key } = await createApiKey(server, owner, org.id, ['READ']);
    for (const auth of [{}, { apiKey: key }]) {
      const res = await server.gql(Mine, {}, auth);
      expect(res.errors).toBeUndefined();
      expect(res.data?.me).toBeNull();
    }
  });
});
