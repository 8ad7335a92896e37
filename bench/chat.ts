/**
 * AI chat benchmark: `npx tsx bench/chat.ts` (or `npm run bench chat`).
 *
 * Runs a real server in a child process (SQLite in a temp folder, echo model, unlimited plan), then:
 *   1. sendThreadMessage round trips (store user message, stream a short echo reply, store it, meter it): p50/p99;
 *   2. one long echo reply (no delay) streamed to a graphql-ws subscriber: time to first delta and to the end;
 *   3. searchMessages over SEARCH_MESSAGES stored messages: p50/p99;
 *   4. POST /v1/chat/completions (not streamed) round trips: p50/p99.
 * Sizes: BENCH_SENDS, BENCH_WORDS, BENCH_SEARCH_MESSAGES.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort, graphqlAt } from './_lib.ts';

const SENDS = Number(process.env.BENCH_SENDS ?? 200);
const WORDS = Number(process.env.BENCH_WORDS ?? 5000);
const SEARCH_MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 2000);
const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const report = (label: string, xs: number[]) => console.log(`${label}: p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms (n=${xs.length})`);

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'confab-bench-chat-'));
writeFileSync(join(dir, 'confab.toml'), '[plans]\nfree = 0\n');
const origin = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
  cwd: root,
  env: { ...process.env, DATABASE_URL: `file:${join(dir, 'bench.db')}`, LOG_LEVEL: 'warn', CONFAB_CONFIG: join(dir, 'confab.toml'), REDIS_URL: '', NODE_ENV: 'development' },
  stdio: ['ignore', 'inherit', 'inherit'],
});

const gql = graphqlAt(origin);

const SEND = `mutation BenchChatSend($input: SendThreadMessageInput!) { sendThreadMessage(input: $input) { assistantMessage { status } } }`;

try {
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    if (server.exitCode !== null) throw new Error('server exited');
    if (await fetch(`${origin}/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('server not ready');
  }
  const { register } = await gql(`mutation BenchChatRegister($input: RegisterInput!) { register(input: $input) { accessToken } }`, {
    input: { email: `bench-${Date.now()}@example.com`, password: 'bench password 123', name: 'Bench' },
  });
  const token: string = register.accessToken;
  const { createOrg } = await gql(`mutation BenchChatOrg($input: CreateOrgInput!) { createOrg(input: $input) { id } }`, { input: { name: 'Bench', slug: `bench-${Date.now()}` } }, token);
  const newThread = async () =>
    (await gql(`mutation BenchChatThread($input: CreateThreadInput!) { createThread(input: $input) { id } }`, { input: { orgId: createOrg.id, title: 't' } }, token)).createThread.id as string;

  // 1. Round trips.
  const threadId = await newThread();
  const rtt: number[] = [];
  for (let i = 0; i < SENDS; i++) {
    const t0 = now();
    await gql(SEND, { input: { threadId, content: `message number ${i} about the weather and the sea` } }, token);
    rtt.push(now() - t0);
  }
  report('sendThreadMessage (echo, 9 words)', rtt);

  // 2. Streaming rate to a subscriber.
  const streamThread = await newThread();
  const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  let deltas = 0;
  let first = 0;
  let last = 0;
  let doneAt: () => void = () => {};
  const done = new Promise<void>((r) => (doneAt = r));
  await new Promise<void>((resolve, reject) => {
    const off = client.on('connected', () => (off(), setTimeout(resolve, 100)));
    client.subscribe<any>(
      { query: `subscription BenchChatEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename ... on AssistantDelta { index } } }`, variables: { threadId: streamThread } },
      {
        next: (r) => {
          const type = r.data?.threadEvents.__typename;
          if (type === 'AssistantDelta') {
            if (deltas++ === 0) first = now();
            last = now();
          }
          if (type === 'AssistantDone') doneAt();
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  const long = Array.from({ length: WORDS }, (_, i) => `w${i}`).join(' ');
  const t0 = now();
  await gql(SEND, { input: { threadId: streamThread, content: long } }, token);
  await done;
  const end = now();
  console.log(
    `${WORDS}-word echo reply to a subscriber: first delta after ${(first - t0).toFixed(1)} ms, done after ${(end - t0).toFixed(1)} ms, ` +
      `${deltas} deltas (coalesced to one per 20 ms), last delta ${(last - first).toFixed(1)} ms after the first`,
  );
  await client.dispose();

  // 3. Search (each send stores two messages).
  const searchThread = await newThread();
  const topics = ['apples', 'harbor', 'engine', 'violin', 'glacier', 'pepper', 'lantern', 'meadow'];
  for (let i = rtt.length * 2; i < SEARCH_MESSAGES; i += 2) {
    await gql(SEND, { input: { threadId: searchThread, content: `note ${i} on ${topics[i % 8]} and ${topics[(i * 3) % 8]}` } }, token);
  }
  const search: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = now();
    await gql(`query BenchChatSearch($q: String!, $orgId: ID!) { searchMessages(query: $q, orgId: $orgId, first: 20) { edges { score } } }`, { q: `${topics[i % 8]} ${topics[(i + 3) % 8]}`, orgId: createOrg.id }, token);
    search.push(now() - t);
  }
  report(`searchMessages over ${SEARCH_MESSAGES} messages (2 words, first 20)`, search);

  // 4. OpenAI-compatible REST.
  const { createApiKey } = await gql(`mutation BenchChatKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { orgId: createOrg.id, name: 'bench', scopes: ['CHAT'] } }, token);
  const rest: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t = now();
    const res = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${createApiKey.key}` },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: `hello number ${i}` }] }),
    });
    await res.json();
    rest.push(now() - t);
  }
  report('POST /v1/chat/completions (echo, whole)', rest);
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
