import { readFileSync } from 'node:fs';
import { buildSchema, isObjectType } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers } from './helpers/fixtures.ts';
import { createGenerator, idPool, prng, type FuzzOperation } from './helpers/fuzz.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * Fuzz suite: operations and variables generated from schema.graphql (random selections and
 * arguments; wrong types, nulls, huge numbers, unicode, malformed global IDs, extreme page sizes)
 * against a production-mode server, anonymous and signed in. Every answer must be JSON without a
 * 5xx, carry only documented codes, and show no internal message or stack trace.
 * Replay a failure with FUZZ_SEED=<seed printed below>; FUZZ_COUNT sets how many operations.
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const OVER_HTTP = 300;
const CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'PAYMENT_REQUIRED', 'RATE_LIMITED', 'GONE']);
/** What an unmasked internal error looks like: stack frames, Prisma and driver messages, JS runtime errors. */
const LEAK = /\n[^\S\n]+at |prisma|invalid `|sqlite|postgres|\bECONN|\/src\/|node_modules|TypeError|ReferenceError|Cannot read prop|undefined is not|is not a function/i;

const CreateRoom = graphql(`mutation FuzzRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const CreateThread = graphql(`mutation FuzzThread($input: CreateThreadInput!) { createThread(input: $input) { id } }`);

let server: TestServer;
let auths: Array<Record<string, string>>;
let ids: string[];
beforeAll(async () => {
  server = await startServer({ overrides: { env: 'production', auth: { secretKey: 'fuzz-suite-secret-fuzz-suite-secret-012345' } } });
  const { org, owner, members } = await orgWithMembers(server, 1);
  const { apiKey, key } = await createApiKey(server, owner, org.id, ['READ', 'WRITE', 'CHAT', 'NOTIFY']);
  const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, name: 'fuzz', type: 'GROUP', memberIds: [members[0].id] } }, { token: owner.token });
  const { createThread } = await server.ok(CreateThread, { input: { orgId: org.id, title: 'fuzz' } }, { token: owner.token });
  ids = [org.id, owner.id, members[0].id, apiKey.id, createRoom.id, createThread.id];
  auths = [{}, { authorization: `Bearer ${owner.token}` }, { authorization: `Bearer ${members[0].token}` }, { 'x-api-key': key }, { authorization: 'Bearer not-a-token' }];
});

/** What is wrong with one answer, or undefined when it is fine. */
function problem(status: number, text: string): string | undefined {
  if (status >= 500) return `status ${status}`;
  let body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
  for (const error of body.errors ?? []) {
    const code = error.extensions?.code as string;
    if (!CODES.has(code)) return `code ${code}: ${error.message}`;
    if (LEAK.test(error.message)) return `leak: ${error.message}`;
    if (error.extensions && ('originalError' in error.extensions || 'stacktrace' in error.extensions || 'exception' in error.extensions)) return `leak: ${JSON.stringify(error.extensions)}`;
  }
  return undefined;
}

describe(`fuzz (seed ${SEED})`, () => {
  it(`answers ${COUNT} generated operations with documented codes only, masking everything internal`, { timeout: 900_000 }, async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const rng = prng(SEED);
    const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    const typeNames = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i.name === 'Node')).map((t) => t.name);
    const next = createGenerator(schema, rng, idPool(ids, typeNames));
    const ops: Array<{ op: FuzzOperation; auth: Record<string, string> }> = Array.from({ length: COUNT }, () => ({ op: next(), auth: rng.pick(auths) }));
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const timing = new Map<string, [number, number]>();
    const send = async (i: number) => {
      const { op, auth } = ops[i];
      const init = { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(op) };
      const t0 = performance.now();
      const res = i < OVER_HTTP ? await fetch(server.url, init) : await server.app.yoga.fetch('http://localhost/graphql', init);
      const text = await res.text();
      if (process.env.FUZZ_PROFILE) {
        const name = /\{ f0: (\w+)/.exec(op.query)?.[1] ?? '?';
        const t = timing.get(name) ?? [0, 0];
        timing.set(name, [t[0] + 1, t[1] + performance.now() - t0]);
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const found = problem(res.status, text);
      if (found && failures.length < 20) failures.push(`${found}\n  query: ${op.query}\n  variables: ${JSON.stringify(op.variables).slice(0, 500)}\n  auth: ${Object.keys(auth)}`);
    };
    let cursor = 0;
    const started = Date.now();
    await Promise.all(Array.from({ length: 12 }, async () => {
      while (cursor < ops.length) {
        await send(cursor++);
        // An in-process request can complete within microtasks alone (a cached credential, SQLite's synchronous
        // driver), so a loop of them would never let the event loop read the HTTP requests still under way: the
        // server's request timeout then cut one off when the loop ended (ECONNRESET). Real clients arrive as I/O.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }));
    console.log(`fuzz: ${COUNT} operations in ${Date.now() - started} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    if (process.env.FUZZ_PROFILE) console.log([...timing].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15).map(([k, [n, ms]]) => `${k} ${n}x ${Math.round(ms)}ms`).join('\n'));
    expect(failures, `seed ${SEED}\n${failures.join('\n\n')}`).toEqual([]);
    expect((await fetch(`${server.origin}/health`)).status).toBe(200);
  });
});
