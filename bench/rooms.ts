/**
 * Room fan-out benchmark: `npx tsx bench/rooms.ts` (or `npm run bench rooms`).
 *
 * Runs a real server in a child process (SQLite in a temp folder, in-memory pub/sub) so that only the
 * server's memory is measured, then from this process:
 *   1. opens SUBSCRIBERS graphql-ws connections, each subscribed to roomEvents of one room;
 *   2. sends messages one at a time and times each delivery from the start of the sendMessage request
 *      (so the figure includes the database commit) to its arrival at every subscriber: p50/p99;
 *   3. sends a burst and counts deliveries per second;
 *   4. closes those, opens IDLE connections with one idle subscription each, and reports the server's
 *      RSS growth per idle subscriber.
 * Sizes can be changed with BENCH_SUBSCRIBERS, BENCH_MESSAGES, BENCH_BURST, BENCH_IDLE; BENCH_SERVER_NODE_ARGS
 * passes flags to the server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort, graphqlAt } from './_lib.ts';

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40);
const BURST = Number(process.env.BENCH_BURST ?? 100);
const IDLE = Number(process.env.BENCH_IDLE ?? 5000);
const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();


const dir = mkdtempSync(join(tmpdir(), 'confab-bench-'));
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}/graphql`;
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/index.ts', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
  cwd: root,
  // Thousands of subscribers come from one address: the WebSocket caps are lifted for the measurement.
  env: {
    ...process.env,
    DATABASE_URL: `file:${join(dir, 'bench.db')}`,
    LOG_LEVEL: 'warn',
    CONFAB_CONFIG: '',
    REDIS_URL: '',
    NODE_ENV: 'development',
    CONFAB_WS_MAX_SOCKETS_PER_ADDRESS: '1000000',
    CONFAB_WS_MAX_SOCKETS_PER_CLIENT: '1000000',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
/** The server's CPU time so far (user + system), in ms. */
const cpuMs = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]);

const gql = graphqlAt(origin);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

const EVENTS = `subscription BenchRoomEvents($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMessageAdded { seq message { content } } } }`;
const SEND = `mutation BenchSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;

/** Opens `n` connections (in batches), each with one roomEvents subscription; calls onMessage per delivery. */
async function connect(n: number, token: string, roomId: string, onMessage: (content: string) => void): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch = Array.from({ length: Math.min(250, n - i) }, () => {
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
      clients.push(client);
      return new Promise<void>((resolve, reject) => {
        const off = client.on('connected', () => (off(), resolve()));
        client.subscribe<{ roomEvents: { message: { content: string } } }>(
          { query: EVENTS, variables: { roomId } },
          { next: (r) => r.data && onMessage(r.data.roomEvents.message.content), error: reject, complete: () => {} },
        );
      });
    });
    await Promise.all(batch);
  }
  return clients;
}

try {
  for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
    if (server.exitCode !== null) throw new Error('server exited');
    if (await fetch(`${origin}/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('server not ready');
  }
  const { register } = await gql(
    `mutation BenchRegister($input: RegisterInput!) { register(input: $input) { accessToken } }`,
    { input: { email: `bench-${Date.now()}@example.com`, password: 'bench password 123', name: 'Bench' } },
  );
  const token: string = register.accessToken;
  const { createOrg } = await gql(`mutation BenchOrg($input: CreateOrgInput!) { createOrg(input: $input) { id } }`, {
    input: { name: 'Bench', slug: `bench-${Date.now()}` },
  }, token);
  const { createRoom } = await gql(`mutation BenchRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, {
    input: { orgId: createOrg.id, type: 'CHANNEL', name: 'bench', memberIds: [] },
  }, token);
  const roomId: string = createRoom.id;
  const send = (content: string) => gql(SEND, { input: { roomId, content } }, token);

  // 1. Subscribers.
  const sentAt = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  const onMessage = (content: string) => {
    const at = now();
    const list = arrivals.get(content);
    if (list) list.push(at - sentAt.get(content)!);
  };
  let t = now();
  const subscribers = await connect(SUBSCRIBERS, token, roomId, onMessage);
  const waitAll = async (content: string, count: number) => {
    for (const deadline = Date.now() + 30_000; (arrivals.get(content)?.length ?? 0) < count; await sleep(2)) {
      if (Date.now() > deadline) throw new Error(`only ${arrivals.get(content)?.length} of ${count} got ${content}`);
    }
  };
  const timed = async (content: string) => {
    arrivals.set(content, []);
    sentAt.set(content, now());
    await send(content);
  };
  // Warm-up: also proves every subscription is live before timing starts.
  await timed('warmup');
  await waitAll('warmup', SUBSCRIBERS);
  console.log(`${SUBSCRIBERS} subscribers connected and live in ${ms(now() - t)}`);

  // 2. Latency, one message at a time.
  const deliveries: number[] = [];
  const lastArrival: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const content = `lat-${i}`;
    await timed(content);
    await waitAll(content, SUBSCRIBERS);
    const got = arrivals.get(content)!;
    deliveries.push(...got);
    lastArrival.push(Math.max(...got));
    await sleep(20);
  }

  // 3. Throughput: a burst of messages, five in flight at a time.
  let delivered = 0;
  const burstContents = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
  const before = deliveries.length;
  void before;
  for (const c of burstContents) arrivals.set(c, []);
  t = now();
  const cpuBefore = cpuMs();
  const queue = [...burstContents];
  await Promise.all(
    Array.from({ length: 5 }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        sentAt.set(c, now());
        await send(c);
      }
    }),
  );
  for (const c of burstContents) await waitAll(c, SUBSCRIBERS);
  const burstMs = Math.max(...burstContents.flatMap((c) => arrivals.get(c)!.map((d) => sentAt.get(c)! + d))) - t;
  delivered = BURST * SUBSCRIBERS;
  const serverCpu = cpuMs() - cpuBefore;

  for (const c of subscribers) await c.dispose();
  console.log(`delivery latency to ${SUBSCRIBERS} subscribers (${MESSAGES} messages, from the start of sendMessage):`);
  console.log(`  per delivery      p50 ${ms(percentile(deliveries, 50))}  p99 ${ms(percentile(deliveries, 99))}`);
  console.log(`  last subscriber   p50 ${ms(percentile(lastArrival, 50))}  p99 ${ms(percentile(lastArrival, 99))}`);
  console.log(`throughput: ${BURST} messages x ${SUBSCRIBERS} subscribers = ${delivered} deliveries in ${ms(burstMs)} → ${Math.round(delivered / (burstMs / 1000))} deliveries/s`);
  console.log(`  server CPU: ${ms(serverCpu)} → ${((serverCpu * 1000) / delivered).toFixed(1)} µs per delivery`);

  // 4. Memory per idle subscriber.
  await sleep(2000);
  const base = rssKb();
  t = now();
  const idle = await connect(IDLE, token, roomId, () => {});
  await sleep(3000);
  const loaded = rssKb();
  console.log(`${IDLE} idle subscribers connected in ${ms(now() - t)}`);
  console.log(`server RSS: ${(base / 1024).toFixed(1)} MB → ${(loaded / 1024).toFixed(1)} MB = ${((loaded - base) / IDLE).toFixed(1)} KB per idle subscriber`);
  await Promise.all(idle.map((c) => c.dispose()));
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
  rmSync(dir, { recursive: true, force: true });
}
