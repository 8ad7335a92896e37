import { connect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { graphql } from './gql/index.ts';
import { registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * Abuse suite: a production-mode server fed hostile requests (deep, wide, long, costly, batched, huge,
 * cross-site and slow). Each is refused with its documented code, and after each the server still
 * answers /health and a normal query.
 */
const Me = graphql(`query AbuseMe { me { id } }`);
const MIB = 1024 * 1024;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    overrides: {
      env: 'production',
      auth: { secretKey: 'abuse-suite-secret-abuse-suite-secret-0123' },
      server: { requestTimeoutMs: 2000, headersTimeoutMs: 1000 },
    },
  });
});

afterEach(async () => {
  expect((await fetch(`${server.origin}/health`)).status).toBe(200);
  const user = await registerUser(server);
  expect((await server.ok(Me, {}, { token: user.token })).me?.id).toBe(user.id);
});

/** POSTs a raw body; returns status and parsed JSON (or text). */
async function post(body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/graphql') {
  const res = await fetch(`${server.origin}${path}`, { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}
const query = (q: string, variables?: unknown) => post(JSON.stringify({ query: q, variables }));

describe('query limits', () => {
  const nest = (n: number) => `{ me { orgs { edges { node { ${'members { edges { node { org { '.repeat(n)} id ${'} } } } '.repeat(n)} } } } } }`;
  const cases: Array<[string, string]> = [
    ['DEPTH', nest(3).replace(/orgs/g, 'orgs(first: 1)').replace(/members/g, 'members(first: 1)')],
    ['ALIASES', `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: me { id }`).join(' ')} }`],
    ['TOKENS', `{ ${'__typename '.repeat(5001)} }`],
    ['COST', '{ me { orgs(first: 100) { edges { node { members(first: 100) { edges { node { org { members(first: 100) { edges { node { role } } } } } } } } } } } }'],
    ['DIRECTIVES', `{ __typename ${'@skip(if: false) '.repeat(51)} }`],
  ];

  it.each(cases)('refuses %s with 400, BAD_USER_INPUT, reason QUERY_LIMIT and no "Syntax Error:" prefix', async (limit, q) => {
    const res = await query(q);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.data).toBeUndefined();
    const [error] = res.body.errors;
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUERY_LIMIT', limit });
    expect(error.message).toMatch(/limit of \d+ exceeded/);
    expect(error.message).not.toMatch(/^Syntax Error/);
  });

  it('refuses them the same way over WebSocket', async () => {
    for (const [limit, q] of [cases[1], cases[2]]) {
      const client = server.ws();
      const errors = await new Promise<any>((resolve) => {
        client.subscribe({ query: q }, { next: (r) => resolve(r.errors), error: resolve, complete: () => {} });
      });
      const list = Array.isArray(errors) ? errors : [errors];
      expect(list[0].message).not.toMatch(/^Syntax Error/);
      expect(list[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUERY_LIMIT', limit });
    }
  });

  it('refuses a batched array clearly (batching is off)', async () => {
    const res = await post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ message: 'Batching is not supported.', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('answers validation errors and unknown fields as BAD_USER_INPUT, without suggestions, in production', async () => {
    const res = await query('{ mee { id } }');
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' });
    expect(res.body.errors[0].message).not.toMatch(/Did you mean/);
  });
});

describe('hostile strings', () => {
  it('refuses U+0000 in variables and literals with BAD_USER_INPUT (PostgreSQL cannot store it; it used to be a 500)', async () => {
    const login = 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }';
    for (const res of [
      await query(login, { input: { email: '\u0000\u0001@example.com', password: 'x' } }),
      await query('mutation { login(input: { email: "a\\u0000@example.com", password: "x" }) { accessToken } }'),
    ]) {
      expect(res.body.errors[0].extensions.code, JSON.stringify(res.body)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('introspection and GraphiQL', () => {
  it('are off in production: __schema is refused, __typename works, GET /graphql serves no page', async () => {
    const res = await query('{ __schema { types { name } } }');
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.data).toBeUndefined();
    expect((await query('{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
    const page = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/html/);
  });

  it('default to on outside production, and config can turn them on in production', () => {
    const base = { file: false as const, overrides: { auth: { secretKey: 'x'.repeat(40) } } };
    expect(loadConfig({ ...base, env: {} }).server).toMatchObject({ introspection: true, graphiql: true });
    expect(loadConfig({ ...base, env: { NODE_ENV: 'production' } }).server).toMatchObject({ introspection: false, graphiql: false });
    const on = loadConfig({ ...base, env: { NODE_ENV: 'production', CONFAB_INTROSPECTION: 'true', CONFAB_GRAPHIQL: '1' } });
    expect(on.server).toMatchObject({ introspection: true, graphiql: true });
  });
});

describe('cross-site requests', () => {
  const mutation = (email: string) => `mutation { register(input: { email: "${email}", password: "correct horse battery", name: "F" }) { user { id } } }`;

  it('never executes a form, text or multipart POST (415), so a form on another site cannot register or change anything', async () => {
    const email = `form-${Date.now()}@example.com`;
    const form = await post(new URLSearchParams({ query: mutation(email) }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await post(JSON.stringify({ query: mutation(email) }), { 'content-type': 'text/plain' })).status).toBe(415);
    const multipart = new FormData();
    multipart.set('operations', JSON.stringify({ query: mutation(email) }));
    expect((await post(multipart, {})).status).toBe(415);
    expect((await post(mutation(email), { 'content-type': 'application/graphql' })).status).toBe(415);
    // None of them ran: the email is still free.
    expect((await query(mutation(email))).body.data.register.user.id).toBeTruthy();
  });

  it('refuses a GET without a CSRF header (403 FORBIDDEN) and serves one with it', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ __typename }')}`;
    const bare = await fetch(url);
    expect(bare.status).toBe(403);
    expect((await bare.json()).errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'CSRF' });
    const ok = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(await ok.json()).toEqual({ data: { __typename: 'Query' } });
    const viaGet = await fetch(`${server.url}?query=${encodeURIComponent(mutation('get@example.com'))}`, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(viaGet.status).toBe(405);
  });
});

describe('body size', () => {
  const big = (bytes: number) => JSON.stringify({ query: '{ __typename }', variables: { x: 'a'.repeat(bytes) } });

  it('answers 413 before parsing a body over 1 MiB, declared or chunked, on GraphQL and /v1', async () => {
    const declared = await post(big(2 * MIB));
    expect(declared.status).toBe(413);
    expect(declared.body.errors[0]).toMatchObject({ message: expect.stringMatching(/too large/), extensions: { code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE', limit: MIB } });
    const bytes = new TextEncoder().encode(big(2 * MIB));
    const chunked = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) c.enqueue(bytes.subarray(i, i + 64 * 1024));
        c.close();
      },
    });
    expect((await post(chunked)).status).toBe(413);
    expect((await post(big(2 * MIB), { 'content-type': 'application/json' }, '/v1/chat/completions')).status).toBe(413);
    // Just under the limit is read and executed.
    expect((await post(big(MIB - 1000))).body).toEqual({ data: { __typename: 'Query' } });
    const small = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(JSON.stringify({ query: '{ __typename }' }))), c.close()) });
    expect((await post(small)).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('closes a WebSocket that sends a message over the limit (1009)', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'a'.repeat(2 * MIB) } }));
    expect(await closed).toBe(1009);
  });
});

describe('slow clients', () => {
  /** Opens a raw socket, writes `parts` one by one `everyMs` apart; resolves with what the server said and when it hung up. */
  function trickle(parts: string[], everyMs: number) {
    return new Promise<{ reply: string; ms: number; sent: number }>((resolve) => {
      const started = Date.now();
      const socket = connect(server.port, '127.0.0.1');
      let reply = '';
      let sent = 0;
      const timer = setInterval(() => {
        if (sent < parts.length && !socket.destroyed) socket.write(parts[sent++]);
      }, everyMs);
      socket.on('data', (d) => (reply += d.toString()));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ reply, ms: Date.now() - started, sent });
      });
    });
  }

  it('cuts off headers sent a byte at a time (headersTimeout) with 408', async () => {
    const head = 'POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-pad: ' + 'a'.repeat(200);
    const { reply, ms, sent } = await trickle(head.split(''), 50);
    expect(reply).toMatch(/^HTTP\/1.1 408/);
    expect(sent).toBeLessThan(head.length);
    expect(ms).toBeLessThan(8000);
  });

  it('cuts off a body sent a byte at a time (requestTimeout) with 408', async () => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const head = `POST /graphql HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const { reply, ms, sent } = await trickle([head, ...body.split('')], 200);
    expect(reply).toMatch(/HTTP\/1.1 408/);
    expect(sent).toBeLessThan(body.length);
    expect(ms).toBeLessThan(10_000);
  });
});
