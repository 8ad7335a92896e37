/**
 * Live fan-out benchmark: `npm run bench fanout`.
 *
 * In one run on the same machine:
 *   1. the floor: a bare `ws` server process (bench/_raw-ws.ts) writing a frame of the same shape and size as
 *      Confab's to BENCH_SUBSCRIBERS clients (default 1000);
 *   2. Confab (a server process, SQLite, in-memory pub/sub): BENCH_SUBSCRIBERS graphql-ws clients subscribed to
 *      roomEvents of one room.
 * For both: BENCH_MESSAGES messages one at a time (paced), each timed from the start of the send request (for Confab
 * sendMessage, so the figure includes the commit) to its arrival at every client: p50/p99; then a burst of
 * BENCH_BURST messages, five in flight, for deliveries/s and the server's CPU time per delivery (less sensitive to a
 * busy machine than the rate). Prints both, the ratio Confab ÷ raw and the p99s.
 *   3. idle (BENCH_IDLE, default 20000; 0 skips): that many authenticated subscriptions on a fresh Confab server,
 *      opened from client processes (bench/_idle-worker.ts), every one receiving a message sent afterwards; the
 *      server's RSS growth per idle subscriber. One socket per subscriber as far as the server's file-descriptor
 *      limit allows (BENCH_IDLE_SOCKETS; the rest share sockets, which graphql-ws allows): the figure says which.
 *      Also the server's heap after a full GC (through the inspector, BENCH_HEAP=0 skips), before and after: the live
 *      objects per subscriber, without RSS's garbage and spare heap.
 */
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { benchDatabase, benchOrg, benchUser, freePort, percentile, root, sleep, startBenchServer, type BenchServer, type BenchUser } from './_lib.ts';

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 1000); // 0: idle mode only
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40);
const BURST = Number(process.env.BENCH_BURST ?? 100);
const IDLE = Number(process.env.BENCH_IDLE ?? 20000);
const now = () => performance.now();
const ms = (x: number) => `${x.toFixed(1)} ms`;
/** A process's CPU time so far (user + system), in ms. */
const cpuMsOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

interface Result { p50: number; p99: number; lastP99: number; perSecond: number; cpuUsPerDelivery: number }

/** Paced latency then burst throughput, given a way to send `content` and a registry of arrivals. */
async function measure(send: (content: string, seq: number) => Promise<unknown>, arrivals: Map<string, number[]>, sentAt: Map<string, number>, count: number, cpuMs: () => number): Promise<Result> {
  const waitAll = async (content: string) => {
    for (const deadline = Date.now() + 60_000; (arrivals.get(content)?.length ?? 0) < count; await sleep(1)) {
      if (Date.now() > deadline) throw new Error(`only ${arrivals.get(content)?.length ?? 0} of ${count} got ${content}`);
    }
  };
  let seq = 0;
  const timed = async (content: string) => {
    arrivals.set(content, []);
    sentAt.set(content, now());
    await send(content, ++seq);
  };
  for (let i = 0; i < 3; i++) {
    await timed(`warm-${i}`);
    await waitAll(`warm-${i}`);
  }
  const deliveries: number[] = [];
  const last: number[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const content = `lat-${String(i).padStart(4, '0')}`;
    await timed(content);
    await waitAll(content);
    const got = arrivals.get(content)!;
    deliveries.push(...got);
    last.push(Math.max(...got));
    await sleep(20);
  }
  const contents = Array.from({ length: BURST }, (_, i) => `brs-${String(i).padStart(4, '0')}`);
  for (const c of contents) arrivals.set(c, []);
  const queue = [...contents];
  const cpu = cpuMs();
  const t = now();
  await Promise.all(Array.from({ length: 5 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      sentAt.set(c, now());
      await send(c, ++seq);
    }
  }));
  for (const c of contents) await waitAll(c);
  const cpuUsPerDelivery = ((cpuMs() - cpu) * 1000) / (BURST * count);
  const end = Math.max(...contents.flatMap((c) => arrivals.get(c)!.map((d) => sentAt.get(c)! + d)));
  return { p50: percentile(deliveries, 50), p99: percentile(deliveries, 99), lastP99: percentile(last, 99), perSecond: (BURST * count) / ((end - t) / 1000), cpuUsPerDelivery };
}

function recorder() {
  const sentAt = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  const onContent = (content: string) => {
    const at = now();
    arrivals.get(content)?.push(at - sentAt.get(content)!);
  };
  return { sentAt, arrivals, onContent };
}

const print = (name: string, r: Result) =>
  console.log(`  ${name.padEnd(7)} per delivery p50 ${ms(r.p50)} p99 ${ms(r.p99)}; last subscriber p99 ${ms(r.lastP99)}; burst ${Math.round(r.perSecond)} deliveries/s, server CPU ${r.cpuUsPerDelivery.toFixed(1)} µs per delivery`);

/** 1. The floor. */
async function raw(): Promise<Result> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/_raw-ws.ts', String(port)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('message', r));
  const rec = recorder();
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < N; i += 250) {
      await Promise.all(Array.from({ length: Math.min(250, N - i) }, () => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}`);
        sockets.push(ws);
        ws.on('open', () => resolve());
        ws.on('error', reject);
        ws.on('message', (data) => rec.onContent((JSON.parse(String(data)) as any).payload.data.roomEvents.message.content));
      })));
    }
    const send = (content: string, seq: number) => fetch(`http://127.0.0.1:${port}/send`, { method: 'POST', body: JSON.stringify({ content, seq }) }).then((r) => r.text());
    return await measure(send, rec.arrivals, rec.sentAt, N, () => cpuMsOf(child.pid!));
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGTERM');
  }
}

const EVENTS = `subscription FanoutRoomEvents($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMessageAdded { seq message { content } } } }`;
const SEND = `mutation FanoutSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;

async function world(server: BenchServer, users: number) {
  const members: BenchUser[] = [];
  for (let i = 0; i < users; i++) members.push(await benchUser(server.gql, `Subscriber ${i}`));
  const orgId = await benchOrg(server.gql, members[0], members.slice(1));
  const { createRoom } = await server.gql(`mutation FanoutRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, {
    input: { orgId, type: 'GROUP', name: 'fanout', memberIds: members.slice(1).map((m) => m.id) },
  }, members[0].token);
  return { members, roomId: createRoom.id as string };
}

/** 2. Confab. */
async function confab(): Promise<Result> {
  const database = await benchDatabase('sqlite');
  const server = await startBenchServer(database.url);
  const clients: Client[] = [];
  try {
    const { members, roomId } = await world(server, 10);
    const rec = recorder();
    const BATCH = 50; // a loaded machine misses graphql-ws's 3 s connection_init window with bigger batches
    for (let i = 0; i < N; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, N - i) }, (_, j) => {
        const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${members[(i + j) % members.length].token}` }, retryAttempts: 0, lazy: false });
        clients.push(client);
        return new Promise<void>((resolve, reject) => {
          const off = client.on('connected', () => (off(), resolve()));
          client.on('closed', (e) => reject(new Error(`subscriber closed: ${(e as { code?: number; reason?: string }).code} ${(e as { reason?: string }).reason}`)));
          client.subscribe<{ roomEvents: { message: { content: string } } }>({ query: EVENTS, variables: { roomId } }, {
            next: (r) => r.data && rec.onContent(r.data.roomEvents.message.content), error: (e) => reject(new Error(`subscription error: ${JSON.stringify(e)}`)), complete: () => {},
          });
        });
      }));
    }
    const send = (content: string) => server.gql(SEND, { input: { roomId, content } }, members[0].token);
    return await measure(send, rec.arrivals, rec.sentAt, N, () => server.cpuMs());
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
    await database.drop();
  }
}

/** 3. Idle subscribers. */
async function idle() {
  const database = await benchDatabase('sqlite');
  // Access tokens that outlast the connecting (a loaded machine took over 15 minutes, the default lifetime).
  const server = await startBenchServer(database.url, { CONFAB_ACCESS_TOKEN_TTL: String(4 * 3600) }, { inspect: process.env.BENCH_HEAP !== '0' });
  const workers: ReturnType<typeof fork>[] = [];
  try {
    const { members, roomId } = await world(server, 20);
    const fdLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${server.child.pid}/limits`, "utf8"))?.[1] ?? 1024);
    const sockets = Math.min(IDLE, Number(process.env.BENCH_IDLE_SOCKETS ?? fdLimit - 300));
    await sleep(1500);
    const base = server.rssKb();
    const baseHeap = await server.heapAfterGcKb();
    const PER_WORKER = 4000;
    const t = now();
    const parts = Math.ceil(sockets / PER_WORKER);
    const got = new Map<string, number>();
    let errors = 0;
    await Promise.all(Array.from({ length: parts }, (_, w) => {
      const s = Math.min(PER_WORKER, sockets - w * PER_WORKER);
      const subs = Math.floor(IDLE / parts) + (w < IDLE % parts ? 1 : 0);
      const worker = fork('bench/_idle-worker.ts', [], {
        cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, WS_URL: server.wsUrl, TOKENS: JSON.stringify(members.map((m) => m.token)), ROOM_ID: roomId, SOCKETS: String(s), SUBS: String(subs) },
      });
      workers.push(worker);
      worker.on('message', (m: { received?: number; content?: string; error?: string }) => {
        if (m.content) got.set(m.content, (got.get(m.content) ?? 0) + m.received!);
        if (m.error && errors++ < 5) console.error(`  subscription error: ${m.error}`);
      });
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { ready?: number }) => m.ready && resolve());
        worker.once('exit', (code) => reject(new Error(`idle worker exited with ${code}`)));
      });
    }));
    const connected = now() - t;
    // Every subscription receives a message sent now (and so was live): retry until each has had one.
    const until = async (content: string) => {
      for (const deadline = Date.now() + 120_000; (got.get(content) ?? 0) < IDLE; await sleep(20)) if (Date.now() > deadline) return false;
      return true;
    };
    let received = false;
    for (let i = 0; i < 5 && !received; i++) {
      const content = `idle-${i}`;
      const sent = now();
      await server.gql(SEND, { input: { roomId, content } }, members[0].token);
      received = await until(content);
      if (received) console.log(`  message sent to ${IDLE} idle subscribers reached every one in ${ms(now() - sent)}`);
      else console.log(`  only ${got.get(content) ?? 0} of ${IDLE} received ${content}`);
    }
    await sleep(3000);
    const loaded = server.rssKb();
    const loadedHeap = await server.heapAfterGcKb();
    console.log(`  ${IDLE} authenticated idle subscribers on ${sockets} sockets (server fd limit ${fdLimit}) connected in ${ms(connected)}`);
    console.log(`  server RSS ${(base / 1024).toFixed(1)} MB → ${(loaded / 1024).toFixed(1)} MB = ${((loaded - base) / IDLE).toFixed(1)} KB per idle subscriber` +
      (sockets < IDLE ? ` (${((loaded - base) / sockets).toFixed(1)} KB per socket)` : ''));
    if (baseHeap !== undefined && loadedHeap !== undefined) {
      console.log(`  server heap after a full GC ${(baseHeap / 1024).toFixed(1)} MB → ${(loadedHeap / 1024).toFixed(1)} MB = ${((loadedHeap - baseHeap) / IDLE).toFixed(1)} KB per idle subscriber (live objects; BENCH_HEAP=0 skips)`);
    }
    if (process.env.BENCH_HEAP_SNAPSHOT) {
      // With BENCH_SERVER_NODE_ARGS=--heapsnapshot-signal=SIGUSR2: a heap snapshot of the loaded server (in its cwd).
      server.child.kill('SIGUSR2');
      await sleep(Number(process.env.BENCH_HEAP_SNAPSHOT_WAIT ?? 30_000));
    }
  } finally {
    for (const w of workers) if (w.connected) w.send({ stop: true });
    await Promise.all(workers.map((w) => (w.exitCode !== null ? null : new Promise((r) => w.once('exit', r)))));
    await server.stop();
    await database.drop();
  }
}

if (N > 0) {
  console.log(`fan-out to ${N} subscribers (${MESSAGES} paced messages, then a burst of ${BURST}):`);
  const floor = await raw();
  print('raw ws', floor);
  const ours = await confab();
  print('Confab', ours);
  console.log(`  ratio Confab ÷ raw deliveries/s: ${(ours.perSecond / floor.perSecond).toFixed(2)}; p99 ${ms(ours.p99)} (Confab) vs ${ms(floor.p99)} (raw); server CPU per delivery ×${(ours.cpuUsPerDelivery / floor.cpuUsPerDelivery).toFixed(1)} of raw`);
}
if (IDLE > 0) {
  console.log('idle subscribers:');
  await idle();
}
