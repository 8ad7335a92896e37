import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { PASSWORD, registerUser } from './helpers/fixtures.ts';
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
