import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from './gql/index.ts';
import { createGqlClient, type GqlClient } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { createThread, send } from './helpers/chat.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { spawnServer, type ServerProcess } from './helpers/process.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { redact } from '../src/modules/chat/providers/openai.ts';
import { verdictOf } from '../src/modules/paid-sessions/screening.ts';

/**
 * Worst-case inputs for the regular expressions that see user input. Each adversarial input is about
 * 100,000 characters (or the most the API takes) and must be answered within a bound that is generous
 * for a loaded CI machine yet orders of magnitude below what super-linear matching would cost: the old
 * template expression took 3.9 s for 2,000 spaces and grows with n³, so days for 100,000.
 */
const BOUND_MS = 10_000;

const Transform = graphql(`mutation RegexWorstTransform($input: TransformKvInput!) { transformKv(input: $input) { name value type } }`);

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;

/** Resolves with the promise's value, or fails the test naming `what` once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The server runs as its own process: if an expression freezes it, the test still times out and fails,
// rather than freezing with it.
describe('kv templates ({{key}} expansion) through a server process', () => {
  let database: TestDatabase;
  let proc: ServerProcess;
  let client: GqlClient;
  let w: KvWorld;

  beforeAll(async () => {
    database = await createTestDatabase();
    proc = await spawnServer({ DATABASE_URL: database.url });
    client = createGqlClient(`${proc.origin}/graphql`, `ws://127.0.0.1:${proc.port}/graphql`);
    w = await kvWorld(client as unknown as TestServer);
    await client.ok(SetKey, { input: { kvInstanceId: w.instanceId, name: 'a', value: 'Alice' } }, w.actors.owner);
  }, 120_000);

  afterAll(async () => {
    // A frozen server does not answer SIGTERM.
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc?.exited;
    await database?.drop();
  });

  it('answers transformKv with `{{` and 100,000 spaces (a WRITE key) at once, and /health answers meanwhile', async () => {
    const template = `{{${' '.repeat(100_000)}`;
    let settled = false;
    const transform = client.gql(Transform, { input: { kvInstanceId: w.instanceId, template, outputKey: 'out' } }, w.actors.keyWrite);
    transform.then(
      () => (settled = true),
      () => (settled = true),
    );
    let answered = 0;
    do {
      const health = await within(fetch(`${proc.origin}/health`), BOUND_MS, '/health, while transformKv expanded its template,');
      expect(health.status).toBe(200);
      answered++;
    } while (!settled);
    expect(answered).toBeGreaterThan(0);
    const res = await within(transform, BOUND_MS, 'transformKv');
    // Not a placeholder: the text goes to the model as it is (echo gives it back).
    expect(res.errors).toBeUndefined();
    expect(res.data!.transformKv).toEqual({ name: 'out', value: template, type: 'TEXT' });
  });

  it('answers the other unclosed and unbalanced shapes at the size limit at once, with their normal results', async () => {
    // Each at (or just under) transformKv's limit of 200,000 characters.
    const cases = [
      `{{a}}{{${'\t\n '.repeat(66_000)}`,
      '{{a'.repeat(66_666),
      '{'.repeat(200_000),
      '{{ a }'.repeat(33_333),
      `{{ a }} ${'{{'.repeat(99_996)}`,
    ];
    for (const template of cases) {
      const res = await within(
        client.gql(Transform, { input: { kvInstanceId: w.instanceId, template, outputKey: 'shapes' } }, w.actors.keyWrite),
        BOUND_MS,
        `transformKv of ${JSON.stringify(template.slice(0, 12))}…`,
      );
      expect(res.errors, JSON.stringify(template.slice(0, 12))).toBeUndefined();
    }
    const unknown = `{{${' '.repeat(99_998)}zz${' '.repeat(99_996)}}}`;
    const res = await within(client.gql(Transform, { input: { kvInstanceId: w.instanceId, template: unknown, outputKey: 'shapes' } }, w.actors.keyWrite), BOUND_MS, 'transformKv');
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((res.errors![0] as { message: string }).message).toContain('zz');
  });

  it('keeps the meaning: one pass, names trimmed of any whitespace, no braces in a name, unknown keys all named', async () => {
    const expand = async (template: string) =>
      (await client.ok(Transform, { input: { kvInstanceId: w.instanceId, template, outputKey: 'meaning' } }, w.actors.keyWrite)).transformKv.value;
    expect(await expand('[{{a}}] [{{ a }}] [{{\t\n a \u00a0}}] [{{{a}}}] [{{a}b}}] [{{}}] [{{a}]')).toBe('[Alice] [Alice] [Alice] [{Alice}] [{{a}b}}] [{{}}] [{{a}]');
    await client.ok(SetKey, { input: { kvInstanceId: w.instanceId, name: 'loop', value: '{{a}} {{loop}}' } }, w.actors.owner);
    expect(await expand('{{loop}}')).toBe('{{a}} {{loop}}');
    const res = await client.gql(Transform, { input: { kvInstanceId: w.instanceId, template: '{{ zz }} {{a}} {{yy}} {{zz}}', outputKey: 'meaning' } }, w.actors.keyWrite);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((res.errors![0] as { message: string }).message).toContain('zz, yy');
  });
});

/**
 * The other expressions that see user input, through a server in this process with inputs of 200,000
 * characters (the request body limit, 1 MiB, bounds every text a client sends; a header is bounded by
 * Node's 16 KiB). Each must be answered, with its normal result or error, within IN_PROCESS_BOUND_MS:
 * linear matching takes milliseconds here, quadratic matching of 200,000 characters tens of seconds.
 * Measured rather than raced: a regular expression that blocks this process would block a timer too.
 *
 * The inventory (grep src for RegExp, regex literals, .match/.replace/.split/.test/.exec, zod .regex/.email/.url):
 * - user input, tested here: kv templates (VAR, above); emails (zod, register and inviteMember); org slugs;
 *   notification topics; webhook secrets; reaction emoji; search terms and stored words (search.service);
 *   IMAGE values (DATA_URL, BASE64); imageUrl (zod url); trusted-document hashes (http/trusted.ts); `Bearer` in viewer.ts (header and connectionParams)
 *   and metrics.ts; x-request-id (context.ts); the screening verdict and provider-error redaction (what a
 *   model answers, which can repeat the user's text); the echo provider's `\S+\s*` and the token estimate's
 *   `\s+` (on the transformKv text above);
 * - bounded by a guard, tested here: webhook URLs (2,048 characters before bareHost and ipaddr.js);
 * - not user input: config (config.ts, lnbits URLs, trusted proxies' CIDRs, GraphiQL options), migration
 *   names and database URLs (db/migrate.ts, index.ts), SQL and driver errors (metrics.ts, db.ts), schema
 *   type names (auth/permissions.ts, auth/acting.ts), graphql-armor's own messages (http/limits.ts),
 *   DateTime values read from the database.
 */
const IN_PROCESS_BOUND_MS = 3_000;
const N = 200_000;

async function quickly<T>(what: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  expect(performance.now() - started, `${what} took too long`).toBeLessThan(IN_PROCESS_BOUND_MS);
  return result;
}

/** Runs `run`, failing if it took IN_PROCESS_BOUND_MS or more. */
function measured<T>(what: string, run: () => T): T {
  const started = performance.now();
  const result = run();
  expect(performance.now() - started, `${what} took too long`).toBeLessThan(IN_PROCESS_BOUND_MS);
  return result;
}

describe('regular expressions on user input, at the API', () => {
  let server: TestServer;
  let owner: TestUser;
  let orgId: string;
  const METRICS_TOKEN = 'metrics-token-for-the-worst-case-test';
  beforeAll(async () => {
    server = await startServer({
      overrides: {
        metrics: { token: METRICS_TOKEN },
      },
    });
    const world = await orgWithMembers(server);
    owner = world.owner;
    orgId = world.org.id;
  });
  const code = async (what: string, query: string, variables: Record<string, unknown>, token: string | null = owner.token) =>
    codeOf(await quickly(what, () => server.gql(query, variables, token ? { token } : {})));

  it('emails (register, inviteMember: zod\'s email expression)', async () => {
    const Register = 'mutation($input: RegisterInput!) { register(input: $input) { token } }';
    const Invite = 'mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invite { id } } }';
    for (const email of [`${'a'.repeat(N)}@`, `x@${'a.'.repeat(N / 2)}1`, `${'a.'.repeat(N / 2)}@example.com`, `x@${'a-'.repeat(N / 2)}`]) {
      expect(await code('register', Register, { input: { email, password: 'correct horse battery', name: 'x' } }, null)).toBe('BAD_USER_INPUT');
      expect(await code('inviteMember', Invite, { input: { orgId, email } })).toBe('BAD_USER_INPUT');
    }
  });

  it('org slugs, notification topics, webhook secrets and URLs', async () => {
    const CreateOrg = 'mutation($input: CreateOrgInput!) { createOrg(input: $input) { id } }';
    expect(await code('createOrg', CreateOrg, { input: { name: 'x', slug: 'a-'.repeat(N / 2) } })).toBe('BAD_USER_INPUT');
    expect(await code('createOrg', CreateOrg, { input: { name: 'x', slug: `${'a'.repeat(N)}!` } })).toBe('BAD_USER_INPUT');
    const Topic = 'mutation($input: SubscribeTopicInput!) { subscribeTopic(input: $input) { __typename } }';
    expect(await code('subscribeTopic', Topic, { input: { orgId, topic: `${'a'.repeat(N)}!` } })).toBe('BAD_USER_INPUT');
    const Hook = 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { webhook { id } } }';
    expect(await code('createWebhook secret', Hook, { input: { orgId, url: 'https://93.184.215.14/h', events: ['MEMBER_JOINED'], secret: `${'!'.repeat(N)} ` } })).toBe('BAD_USER_INPUT');
    // The URL's own guard: longer than 2,048 characters is refused before any expression sees its host.
    const url = `https://example.com/${'a'.repeat(N)}`;
    const tooLong = await quickly('createWebhook url', () => server.gql(Hook, { input: { orgId, url, events: ['MEMBER_JOINED'] } }, { token: owner.token }));
    expect(tooLong.errors?.[0]?.message).toContain('longer than 2048');
  });

  it('reactions, room messages and search (query terms, and the words of stored messages)', async () => {
    const { createRoom } = await server.ok<{ createRoom: { id: string } }, object>('mutation($input: CreateRoomInput!) { createRoom(input: $input) { id } }', { input: { orgId, type: 'GROUP', name: 'regex', memberIds: [] } }, { token: owner.token });
    // Messages are at most 4,000 characters in rooms and 32,000 in threads: that bounds the words of a hit.
    // Each hit's passage is cut in one pass (FTS5's snippet() took over a second a row here with 20 terms).
    const alphabet = 'a b c d e f g h i j k l m n o p q r s t ';
    const content = `needle ${'a\u0301!'.repeat(600)} ${alphabet.repeat(40)}`;
    const thread = await createThread(server, owner.token, orgId);
    for (let i = 0; i < 3; i++) await send(server, { token: owner.token }, thread.id, `needle ${alphabet.repeat(799)}`);
    const { sendMessage } = await server.ok<{ sendMessage: { id: string } }, object>('mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId: createRoom.id, content } }, { token: owner.token });
    const React = 'mutation($input: AddReactionInput!) { addReaction(input: $input) { id } }';
    expect(await code('addReaction', React, { input: { messageId: sendMessage.id, emoji: `${'x'.repeat(N)} ` } })).toBe('BAD_USER_INPUT');
    const Search = 'query($orgId: ID!, $query: String!) { searchMessages(orgId: $orgId, query: $query) { edges { highlight node { __typename } } } }';
    for (const query of [`needle ${'_'.repeat(N)}`, `needle ${'\u0301'.repeat(N)}`, `needle ${'a!'.repeat(N / 2)}`, `needle ${alphabet.repeat(N / 40)}`]) {
      const res = await quickly('searchMessages', () => server.gql<{ searchMessages: { edges: { highlight: string }[] } }, object>(Search, { orgId, query }, { token: owner.token }));
      expect(res.errors).toBeUndefined();
      expect(res.data!.searchMessages.edges.length).toBeGreaterThan(0);
    }
    expect(await code('searchMessages', Search, { orgId, query: '!'.repeat(N) })).toBe('BAD_USER_INPUT');
  });

  it('IMAGE key values (data: URLs and base64) and image URLs', async () => {
    const w = await kvWorld(server);
    const Set = 'mutation($input: SetKvKeyInput!) { setKvKey(input: $input) { name } }';
    for (const value of [`data:image/png;base64,${'A'.repeat(N)}!`, `data:${'a'.repeat(N)}`, `data:image/${'a'.repeat(N)};`, `${'A'.repeat(N)} !`]) {
      const res = await quickly('setKvKey IMAGE', () => server.gql(Set, { input: { kvInstanceId: w.instanceId, name: 'img', type: 'IMAGE', contentType: 'image/png', value } }, w.actors.writer));
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
    }
    const Analyze = 'mutation($input: AnalyzeKvImageInput!) { analyzeKvImage(input: $input) { name } }';
    const res = await quickly('analyzeKvImage', () => server.gql(Analyze, { input: { kvInstanceId: w.instanceId, imageUrl: `http://${'a'.repeat(N)}`, outputKey: 'o' } }, w.actors.writer));
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });

  it('what a provider answers: the screening verdict and the key redaction of provider errors', () => {
    // A model can be made to repeat what it was sent; with the echo model the verdict is taken offline
    // (blocked words, no expression), so these run on the text itself.
    for (const text of [`REJECT${' '.repeat(N / 2)}:${'\t'.repeat(N / 2)}x`, `${' '.repeat(N)}REJEC`, `REJECT${' :'.repeat(N / 2)}`]) {
      const verdict = measured('verdictOf', () => verdictOf(text));
      expect(verdict.accepted).toBe(!text.startsWith('REJECT'));
    }
    expect(verdictOf(`  reject: too ${' '.repeat(N)}long`)).toEqual({ accepted: false, reason: `too ${' '.repeat(N)}long`.trim() });
    for (const text of ['sk-'.repeat(N / 3), `sk_${'a'.repeat(5)} `.repeat(N / 9), `${'key-'.repeat(N / 4)}!`]) {
      measured('redact', () => redact(text));
    }
    expect(redact(`bad key sk-${'a'.repeat(N)} here`)).toBe('bad key [redacted] here');
  });

  it('credentials and request ids: headers (Node caps them at 16 KiB) and connectionParams (up to 1 MiB)', async () => {
    const H = 15_000;
    const post = (headers: Record<string, string>) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ me { id } }' }) });
    const bearer = await quickly('bearer header', () => post({ authorization: `Bearer${' '.repeat(H)}x${' '.repeat(H / 100)}!` }));
    expect(((await bearer.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const id = await quickly('x-request-id', () => post({ 'x-request-id': `${'a'.repeat(H)}!` }));
    expect(id.headers.get('x-request-id')).toMatch(/^[\da-f-]{36}$/);
    expect((await post({ 'x-request-id': 'given.by:the-client' })).headers.get('x-request-id')).toBe('given.by:the-client');
    const metrics = await quickly('/metrics bearer', () => fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer${' '.repeat(H)}x y` } }));
    expect(metrics.status).toBe(401);
    expect((await fetch(`${server.origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);

    // The same credentials over graphql-ws, where only the message size (1 MiB) bounds them.
    const outcome = await quickly('connection_init', async () => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      await once(socket, 'open');
      const answered = new Promise<string>((resolve) => {
        socket.on('message', (data) => resolve(String(JSON.parse(String(data)).type)));
        socket.on('close', (closeCode) => resolve(`close ${closeCode}`));
      });
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer${' '.repeat(N)}x`, apiKey: `${' '.repeat(N)}x` } }));
      const first = await answered;
      socket.close();
      return first;
    });
    expect(outcome).toBe('close 4403');
  });

  it('trusted-document hashes (security.trusted_documents)', async () => {
    const trusted = await startServer({ overrides: { security: { trustedDocuments: 'test/gql/persisted-documents.json' } } });
    for (const sha256Hash of ['sha256:'.repeat(N / 7), `${'SHA256:'.repeat(N / 7)}x`]) {
      const res = await quickly('persisted query', () =>
        fetch(trusted.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash } } }) }),
      );
      expect(((await res.json()) as { errors?: { extensions?: { reason?: string } }[] }).errors?.[0]?.extensions?.reason).toBe('PERSISTED_QUERY_NOT_FOUND');
    }
    await trusted.stop();
  });
});
