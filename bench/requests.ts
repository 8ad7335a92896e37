/**
 * Request path benchmark: `npm run bench requests`.
 *
 * Measures Confab's request path against the framework's own floor, in one run, with the same client (autocannon,
 * in this process) at the same concurrency. Build first (`npm run build`): the server is dist/confab.js when built
 * (bench/_lib.ts's startBenchServer), and a stale bundle measures old code.
 *
 * For each database in BENCH_DBS (default `sqlite,postgresql`; a fresh database each):
 *  1. The floor: a bare graphql-yoga server (bench/_bare-yoga.mjs: createYoga + a one-field schema on node:http,
 *     production mode, no logging) in its own process on the same node binary as Confab's, answering `{ __typename }`.
 *     Measured again for each database (the machine's load moves between them).
 *  2. Confab's server process, seeded through its API: an owner and 19 members in one org, a GROUP room with all 20,
 *     and 20 threads of 20 messages. Then, each in turn: `typename` ({ __typename }, anonymous); `me`; `room` (its
 *     name); `sendMessage (HTTP)` (~70 characters into the room, each connection as one of the 20 users);
 *     `sendMessage (graphql-ws)` (one socket per user, speaking graphql-transport-ws on a bare `ws` socket, with
 *     BENCH_SENDERS / 20 mutations in flight each); `nested read` (bench/reads.ts's query: 20 threads × 20 messages
 *     × author). Reads and `typename` at BENCH_CONNECTIONS connections (default 20), sends at BENCH_SENDERS
 *     (default 100); each a 2 s warm-up, then BENCH_SECONDS (default 5) timed.
 *  3. The SQL statements one request of each runs (BEGIN/COMMIT/ROLLBACK/PRAGMA left out), counted from Prisma's
 *     query log on an in-process server (buildApp with onQuery, so the sources in src/ as they are now) over the same
 *     database, while the server process is stopped: each operation once to warm, then one counted, up to 300 ms after
 *     its response (a send's webhook lookup may run after it; how many did is shown). A send is counted alone: under load the group commit
 *     shares one transaction's statements among a batch (the mean batch is printed from /metrics).
 *  4. After the sends, that the room's seqs are exactly 1..lastSeq (as bench/send.ts).
 *
 * One line per operation: `NAME: N req/s, X µs CPU/request, S statements/request, ×R of floor (…)`, where CPU is the
 * server process's (user + system, from /proc) over the timed window ÷ the requests answered in it, and R that figure
 * ÷ the floor's. In the parentheses: latency p50/p99, and `client µs/request`, this process's own CPU per request
 * (autocannon or the WebSocket client): on a 2-core machine the client competes with the server for the cores (both
 * are also shown as cores used: CPU seconds per second of the timed window; Node runs the server's JavaScript on one).
 * Every response is checked: non-2xx, socket errors, timeouts and responses with GraphQL `errors` are printed and
 * fail the run (exit code 1), as do gaps in the room's seqs. A summary compares the sends with their targets
 * (≥ 3,000 messages/s on SQLite, ≥ 2,000/s on PostgreSQL) and `typename` (≤ ×1.3) and `room` (≤ ×2.0) with theirs.
 *
 * BENCH_SHOW_SQL=1 prints the counted statements.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import {
  BENCH_SECRET, benchDatabase, benchOrg, benchUser, freePort, percentile, processCpuMs, root, serverNode, serverNodeVersion, sleep, startBenchServer,
  type BenchServer, type BenchUser,
} from './_lib.ts';

const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgresql').split(',') as ('sqlite' | 'postgresql')[];
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 2;
const USERS = 20;
const THREADS = 20;
const MESSAGES = 20;
const TARGET_SENDS = { sqlite: 3000, postgresql: 2000 };
const TARGET_TYPENAME = 1.3;
const TARGET_ROOM = 2.0;

const TYPENAME = `{ __typename }`;
const ME = `query { me { id } }`;
const ROOM = `query($id: ID!) { room(id: $id) { name } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;
const NESTED = `query ReadsNested {
  me { threads(first: 20) { edges { node { id title messages(last: 20) { edges { node { id content createdAt author { id name } } } } } } } }
}`;
const CONTENT = `message ${'x'.repeat(62)}`; // 70 characters

const isStatement = (q: string) => !/^(?:BEGIN|COMMIT|ROLLBACK|PRAGMA)/i.test(q.trim());
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One timed operation's figures. */
interface Measured {
  requests: number;
  seconds: number;
  /** Server CPU per request, µs. */
  cpuUs: number;
  /** This process's CPU per request, µs. */
  clientUs: number;
  p50: string;
  p99: string;
  /** Failures by kind (non-2xx, socket errors, GraphQL errors…); all zero when every response was good. */
  failures: Record<string, number>;
}

const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A plain request with `body`, failing loudly on a non-200 or on GraphQL errors (before each autocannon run). */
async function sample(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`sample request to ${url} answered ${res.status}: ${text.slice(0, 500)}`);
}

/**
 * autocannon POSTing `body` to `url` on `connections` connections (connection i with `perConnection[i % length]`'s
 * headers, when given): WARMUP_SECONDS untimed, then SECONDS timed. Every response's body is checked for `"errors"`
 * (autocannon's verifyBody: responses failing it are its `mismatches`).
 */
async function cannon(url: string, body: string, connections: number, serverCpuMs: () => number, perConnection: Record<string, string>[] = [{}]): Promise<Measured> {
  await sample(url, perConnection[0], body);
  const run = (duration: number) => {
    let next = 0;
    return autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...perConnection[0] },
      body,
      connections,
      duration,
      pipelining: 1,
      setupClient: perConnection.length > 1 ? (client) => client.setHeaders({ 'content-type': 'application/json', ...perConnection[next++ % perConnection.length] }) : undefined,
      verifyBody: (b) => !b.includes('"errors"'),
    });
  };
  await run(WARMUP_SECONDS);
  const cpu = serverCpuMs();
  const client = clientCpuMs();
  const r = await run(SECONDS);
  const requests = r.requests.total;
  return {
    requests,
    seconds: r.duration,
    cpuUs: ((serverCpuMs() - cpu) * 1000) / requests,
    clientUs: ((clientCpuMs() - client) * 1000) / requests,
    p50: `${r.latency.p50} ms`,
    p99: `${r.latency.p99} ms`,
    failures: { 'non-2xx': r.non2xx, 'socket errors': r.errors - r.timeouts, timeouts: r.timeouts, 'GraphQL errors': r.mismatches },
  };
}

/**
 * Mutations over graphql-ws from bare `ws` sockets, one per token: connection_init with the token, then up to
 * `inFlight[i]` operations under way on socket i, a new one (next id) as each completes. `next` payloads with `errors`,
 * `error` messages and sockets closing count as failures.
 */
class WsSenders {
  private sockets: WebSocket[] = [];
  private running = false;
  private started = new Map<string, number>();
  private inFlightNow = 0;
  private drained: (() => void) | undefined;
  private ids = 0;
  private closing = false;
  private onFinish: (() => void) | undefined;
  /** Operations answered with a result and no errors. */
  completed = 0;
  /** Operations ended (complete or error). */
  finished = 0;
  failed = { 'error messages': 0, 'GraphQL errors': 0, 'sockets closed': 0 };
  latencies: number[] = [];

  constructor(private url: string, private tokens: string[], private payload: string) {}

  async open() {
    await Promise.all(this.tokens.map((token) => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(this.url, 'graphql-transport-ws');
      this.sockets.push(ws);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      ws.on('error', reject);
      ws.on('close', (code, reason) => {
        if (this.closing) return;
        this.failed['sockets closed']++;
        reject(new Error(`socket closed: ${code} ${String(reason)}`));
        console.error(`graphql-ws socket closed by the server: ${code} ${String(reason)}`);
      });
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as { id?: string; type: string; payload?: { errors?: unknown } };
        if (m.type === 'next') {
          if (m.payload?.errors) {
            if (!this.failed['GraphQL errors']++) console.error(`graphql-ws: ${JSON.stringify(m.payload.errors).slice(0, 500)}`);
            this.started.set(m.id!, -1);
          }
        } else if (m.type === 'complete' || m.type === 'error') {
          const t = this.started.get(m.id!);
          this.started.delete(m.id!);
          if (m.type === 'error') {
            if (!this.failed['error messages']++) console.error(`graphql-ws error: ${JSON.stringify(m.payload).slice(0, 500)}`);
          } else if (t !== undefined && t >= 0) {
            this.completed++;
            if (this.running) this.latencies.push(performance.now() - t);
          }
          this.finished++;
          this.onFinish?.();
          this.inFlightNow--;
          if (this.running) this.start(ws);
          else if (!this.inFlightNow) this.drained?.();
        } else if (m.type === 'connection_ack') resolve();
        else if (m.type === 'ping') ws.send('{"type":"pong"}');
      });
    })));
  }

  private start(ws: WebSocket) {
    const id = String(++this.ids);
    this.started.set(id, performance.now());
    this.inFlightNow++;
    ws.send(`{"id":"${id}","type":"subscribe","payload":${this.payload}}`);
  }

  /** `inFlight` operations per socket (spread over them) for `ms`; `atEnd` is called when the time is up. */
  async run<T>(inFlight: number, ms: number, atEnd: () => T): Promise<T> {
    this.running = true;
    this.latencies = [];
    this.sockets.forEach((ws, i) => {
      const n = Math.floor(inFlight / this.sockets.length) + (i < inFlight % this.sockets.length ? 1 : 0);
      for (let k = 0; k < n; k++) this.start(ws);
    });
    await sleep(ms);
    this.running = false;
    const end = atEnd();
    if (this.inFlightNow) {
      await Promise.race([new Promise<void>((r) => (this.drained = r)), sleep(15_000)]);
      this.drained = undefined;
    }
    return end;
  }

  /** One operation on the first socket, resolved when it completes. */
  async one() {
    await new Promise<void>((resolve) => {
      this.onFinish = resolve;
      this.start(this.sockets[0]);
    });
    this.onFinish = undefined;
  }

  close() {
    this.closing = true;
    for (const ws of this.sockets) ws.close();
  }
}

/** The WebSocket senders' figures over SECONDS, after WARMUP_SECONDS untimed. */
async function measureWs(senders: WsSenders, serverCpuMs: () => number): Promise<Measured> {
  await senders.run(SENDERS, WARMUP_SECONDS * 1000, () => undefined);
  const done = senders.completed;
  const cpu = serverCpuMs();
  const client = clientCpuMs();
  const t = performance.now();
  const end = await senders.run(SENDERS, SECONDS * 1000, () => ({
    requests: senders.completed - done,
    seconds: (performance.now() - t) / 1000,
    serverMs: serverCpuMs() - cpu,
    clientMs: clientCpuMs() - client,
  }));
  const lat = senders.latencies;
  return {
    requests: end.requests,
    seconds: end.seconds,
    cpuUs: (end.serverMs * 1000) / end.requests,
    clientUs: (end.clientMs * 1000) / end.requests,
    p50: `${percentile(lat, 50).toFixed(1)} ms`,
    p99: `${percentile(lat, 99).toFixed(1)} ms`,
    // Over the warm-up too: a failure is a failure.
    failures: { ...senders.failed },
  };
}

/** The floor server (bench/_bare-yoga.mjs) as a child process on the same node binary as Confab's server. */
async function startBareYoga() {
  const port = await freePort();
  const child: ChildProcess = spawn(serverNode, ['bench/_bare-yoga.mjs', String(port)], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bare yoga server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** The server's group-commit counters (GET /metrics), as bench/send.ts. */
async function batchCounts(origin: string) {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { commits: read('confab_room_send_commits'), messages: read('confab_room_send_messages') };
}

/** That the room's seqs are exactly 1..lastSeq, paging through its messages (as bench/send.ts). */
async function checkSeqs(gql: BenchServer['gql'], roomId: string, token: string) {
  const { room } = await gql(`query RequestsRoomSeq($id: ID!) { room(id: $id) { lastSeq } }`, { id: roomId }, token);
  let seqs = 0;
  let expected = 1;
  for (let after = 0; ;) {
    const { room: page } = await gql(`query RequestsPage($id: ID!, $after: Int!) { room(id: $id) { messages(afterSeq: $after, first: 100) { edges { node { seq } } } } }`, { id: roomId, after }, token);
    const messages: { seq: number }[] = page.messages.edges.map((e: { node: { seq: number } }) => e.node);
    if (!messages.length) break;
    for (const m of messages) if (m.seq === expected) expected++;
    seqs += messages.length;
    after = messages.at(-1)!.seq;
  }
  return { lastSeq: room.lastSeq as number, gapFree: seqs === room.lastSeq && expected === room.lastSeq + 1 };
}

interface Operation {
  name: string;
  body: string;
  /** Headers for each connection in turn (one entry: all the same). */
  headers: Record<string, string>[];
  connections: number;
}

/** Statements of one request: in all, and of those, how many ran after its response was received. */
interface Statements { total: number; later: number }
type Line = Measured & { name: string; statements: Statements };

async function run(kind: 'sqlite' | 'postgresql') {
  console.log(`\n--- ${kind}`);
  const loadBefore = load();
  const database = await benchDatabase(kind);
  let server: BenchServer | undefined;
  let floorServer: Awaited<ReturnType<typeof startBareYoga>> | undefined;
  let app: ReturnType<typeof buildApp> | undefined;
  let senders: WsSenders | undefined;
  let failed = false;
  const lines: Line[] = [];
  const print = (line: Line, floorCpuUs: number) => {
    lines.push(line);
    const cores = (us: number) => ((us * line.requests) / 1e6 / line.seconds).toFixed(2);
    const bad = Object.entries(line.failures).filter(([, n]) => n);
    console.log(
      `${line.name}: ${Math.round(line.requests / line.seconds)} req/s, ${Math.round(line.cpuUs)} µs CPU/request, ${line.statements.total} statements/request, ` +
      `×${(line.cpuUs / floorCpuUs).toFixed(2)} of floor (p50 ${line.p50}, p99 ${line.p99}; client ${Math.round(line.clientUs)} µs/request; ` +
      (line.statements.later ? `${line.statements.later} of the statements after the response; ` : '') +
      `cores used: server ${cores(line.cpuUs)}, client ${cores(line.clientUs)}; ${line.requests} requests in ${line.seconds.toFixed(1)} s)`,
    );
    if (bad.length) {
      failed = true;
      console.log(`  FAILED responses: ${bad.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
  };
  try {
    // 1. The floor.
    floorServer = await startBareYoga();
    const floor = { name: 'floor (bare yoga)', statements: { total: 0, later: 0 }, ...(await cannon(floorServer.url, JSON.stringify({ query: TYPENAME }), CONNECTIONS, floorServer.cpuMs)) };
    await floorServer.stop();
    floorServer = undefined;
    print(floor, floor.cpuUs);

    // 2. Confab, seeded through its API.
    server = await startBenchServer(database.url);
    const { gql } = server;
    const t = performance.now();
    const users: BenchUser[] = await Promise.all(Array.from({ length: USERS }, (_, i) => benchUser(gql, i ? `Member ${i}` : 'Owner')));
    const owner = users[0];
    const orgId = await benchOrg(gql, owner, users.slice(1));
    const { createRoom } = await gql(`mutation RequestsRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, {
      input: { orgId, type: 'GROUP', name: 'requests', memberIds: users.slice(1).map((u) => u.id) },
    }, owner.token);
    const roomId: string = createRoom.id;
    const threads = await Promise.all(Array.from({ length: THREADS }, (_, i) =>
      gql(`mutation RequestsThread($input: CreateThreadInput!) { createThread(input: $input) { id } }`, {
        input: { orgId, title: `thread ${i}`, firstMessage: { content: 'first message' } },
      }, owner.token)));
    const APPEND = `mutation RequestsAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { id } } }`;
    await Promise.all(threads.map(async ({ createThread }) => {
      for (let m = 1; m < MESSAGES; m++) await gql(APPEND, { input: { threadId: createThread.id, role: 'USER', content: `message ${m} ${'lorem ipsum '.repeat(5)}` } }, owner.token);
    }));
    console.log(`seeded in ${((performance.now() - t) / 1000).toFixed(1)} s: ${USERS} users in one org, a GROUP room of all of them, ${THREADS} threads × ${MESSAGES} messages`);

    const sendBody = JSON.stringify({ query: SEND, variables: { input: { roomId, content: CONTENT } } });
    const ops: Operation[] = [
      { name: 'typename', body: JSON.stringify({ query: TYPENAME }), headers: [{}], connections: CONNECTIONS },
      { name: 'me', body: JSON.stringify({ query: ME }), headers: [bearer(owner.token)], connections: CONNECTIONS },
      { name: 'room', body: JSON.stringify({ query: ROOM, variables: { id: roomId } }), headers: [bearer(owner.token)], connections: CONNECTIONS },
      { name: 'sendMessage (HTTP)', body: sendBody, headers: users.map((u) => bearer(u.token)), connections: SENDERS },
      { name: 'nested read', body: JSON.stringify({ query: NESTED }), headers: [bearer(owner.token)], connections: CONNECTIONS },
    ];
    const wsPayload = JSON.stringify({ query: SEND, variables: { input: { roomId, content: CONTENT } } });

    // 3. Statements per request, on an in-process server over the same database (the server process stopped first:
    // one writer of the SQLite file at a time).
    await server.stop();
    server = undefined;
    const statements: string[] = [];
    app = buildApp(loadConfig({ env: {}, file: false, overrides: { database: { url: database.url }, auth: { secretKey: BENCH_SECRET }, log: { level: 'silent' }, webhooks: { pollIntervalMs: 3_600_000 } } as any }), {
      onQuery: (sql) => statements.push(sql),
    });
    const started = await app.start(await freePort(), '127.0.0.1');
    const counts = new Map<string, Statements>();
    const count = async (name: string, once: () => Promise<void>) => {
      await once();
      await sleep(300);
      statements.length = 0;
      await once();
      const during = statements.filter(isStatement).length;
      await sleep(300);
      const total = statements.filter(isStatement).length;
      counts.set(name, { total, later: total - during });
      if (process.env.BENCH_SHOW_SQL) for (const s of statements.filter(isStatement)) console.log(`  [${name}] ${s.replace(/\s+/g, ' ').slice(0, 300)}`);
    };
    for (const op of ops) {
      await count(op.name, () => sample(started.url, op.headers[0], op.body));
    }
    const one = new WsSenders(started.wsUrl, [owner.token], wsPayload);
    await one.open();
    await sleep(300);
    await count('sendMessage (graphql-ws)', () => one.one());
    one.close();
    if (one.failed['error messages'] || one.failed['GraphQL errors']) throw new Error('graphql-ws sendMessage failed on the in-process server');
    await app.stop();
    app = undefined;

    // Throughput, on the server process again.
    server = await startBenchServer(database.url);
    const url = `${server.origin}/graphql`;
    console.log(`Confab's server on Node ${serverNodeVersion().replace(/^v/, '')}; reads and typename at ${CONNECTIONS} connections, sends at ${SENDERS}; ${WARMUP_SECONDS} s warm-up, ${SECONDS} s timed each`);
    const batches: string[] = [];
    for (const op of ops) {
      const before = op.name.startsWith('sendMessage') ? await batchCounts(server.origin) : undefined;
      print({ name: op.name, statements: counts.get(op.name)!, ...(await cannon(url, op.body, op.connections, server.cpuMs, op.headers)) }, floor.cpuUs);
      if (before) {
        const after = await batchCounts(server.origin);
        batches.push(`${op.name}: mean group-commit batch ${((after.messages - before.messages) / Math.max(after.commits - before.commits, 1)).toFixed(1)}`);
      }
      if (op.name === 'sendMessage (HTTP)') {
        // The same mutation over graphql-ws, right after: one socket per user, SENDERS operations in flight in all.
        senders = new WsSenders(server.wsUrl, users.map((u) => u.token), wsPayload);
        await senders.open();
        const wsBefore = await batchCounts(server.origin);
        print({ name: 'sendMessage (graphql-ws)', statements: counts.get('sendMessage (graphql-ws)')!, ...(await measureWs(senders, server.cpuMs)) }, floor.cpuUs);
        const wsAfter = await batchCounts(server.origin);
        batches.push(`sendMessage (graphql-ws): mean group-commit batch ${((wsAfter.messages - wsBefore.messages) / Math.max(wsAfter.commits - wsBefore.commits, 1)).toFixed(1)}`);
        senders.close();
        senders = undefined;
      }
    }
    console.log(`(${batches.join('; ')}; statements/request of a send are counted for a lone one)`);

    // 4. The room's seqs after both sends.
    const seqs = await checkSeqs(server.gql, roomId, owner.token);
    console.log(`room seqs 1..${seqs.lastSeq} ${seqs.gapFree ? 'contiguous' : 'NOT contiguous'}`);
    if (!seqs.gapFree) failed = true;
    console.log(`load average (1/5/15 min): ${loadBefore} before, ${load()} after`);
    return { kind, floor, lines };
  } finally {
    if (failed) process.exitCode = 1;
    senders?.close();
    await floorServer?.stop();
    await app?.stop();
    await server?.stop();
    await database.drop();
  }
}

// The statements are counted on src/ (in process, through tsx), the throughput measured on dist/confab.js: say so when
// the bundle is older than the sources.
const bundle = join(root, 'dist', 'confab.js');
if (!existsSync(bundle)) console.log('note: no dist/confab.js, the server runs through tsx (run `npm run build` first)');
else {
  const built = statSync(bundle).mtimeMs;
  const newer = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && statSync(join(root, 'src', f)).mtimeMs > built);
  if (newer.length) console.log(`note: dist/confab.js is older than ${newer.length} file(s) of src/ (${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ', …' : ''}): run \`npm run build\` first`);
}

const results: Awaited<ReturnType<typeof run>>[] = [];
for (const kind of DBS) results.push(await run(kind));

console.log('\n--- summary');
for (const { kind, floor, lines } of results) {
  const get = (name: string) => lines.find((l) => l.name === name)!;
  const rate = (l: Line) => l.requests / l.seconds;
  // Rounded as printed, so that the verdict agrees with the figure shown.
  const ratio = (l: Line) => Number((l.cpuUs / floor.cpuUs).toFixed(2));
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const http = get('sendMessage (HTTP)');
  const ws = get('sendMessage (graphql-ws)');
  const target = TARGET_SENDS[kind];
  console.log(
    `${kind}: sendMessage ${fmt(rate(http))} messages/s over HTTP (${mark(rate(http) >= target)}), ${fmt(rate(ws))} over graphql-ws (${mark(rate(ws) >= target)}), target ≥ ${fmt(target)}/s; ` +
    `typename ×${ratio(get('typename')).toFixed(2)} of floor (target ≤ ${TARGET_TYPENAME}: ${mark(ratio(get('typename')) <= TARGET_TYPENAME)}); ` +
    `room ×${ratio(get('room')).toFixed(2)} (target ≤ ${TARGET_ROOM.toFixed(1)}: ${mark(ratio(get('room')) <= TARGET_ROOM)})`,
  );
}
