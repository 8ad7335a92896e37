/**
 * Live fan-out benchmark: `npm run bench fanout`. Every figure is set against a floor measured in the same run on the
 * same machine (a bare `ws` server process, bench/_raw-ws.ts, unless said otherwise), and each section ends with one
 * `ratio` line. Server CPU time per operation (from /proc/<pid>/stat) is the steadiest figure on a busy machine.
 *
 *   1. One room (BENCH_SUBSCRIBERS, default 1000; 0 skips): the floor writing a frame of the same shape and size as
 *      Confab's to BENCH_SUBSCRIBERS clients, then Confab (a server process, SQLite, in-memory pub/sub) with
 *      BENCH_SUBSCRIBERS graphql-ws clients subscribed to roomEvents of one room. For both: BENCH_MESSAGES messages
 *      one at a time (paced), each timed from the start of the send request (for Confab sendMessage, so the figure
 *      includes the commit) to its arrival at every client: p50/p99; then a burst of BENCH_BURST messages (default 500), five in
 *      flight, for deliveries/s and the server's CPU time per delivery (less sensitive to a busy machine than the
 *      rate). Prints both, the ratio Confab ÷ raw and the p99s.
 *   2. Many small rooms (BENCH_ROOMS, default 1000; 0 skips): BENCH_ROOMS rooms of BENCH_ROOM_SIZE subscribers each
 *      (default 10, one socket per subscriber: 10,000 sockets), 20 users each a member of every room (rooms created
 *      through the API by the owner, 20 at a time). A burst of BENCH_ROOM_MESSAGES messages (default 2000) to rooms
 *      drawn at random (the same draw on both sides), five in flight, after an unmeasured one of a tenth of that:
 *      deliveries/s and server CPU µs per delivery, for Confab and for the floor routing the same way (its clients
 *      join a room by `?room=R`, `POST /send {room, content, seq}` writes to that room's sockets only). The
 *      subscribers speak graphql-transport-ws on bare `ws` sockets (bench/_gql-ws.ts) so the client side costs the
 *      same per frame on both sides. A Confab subscription counts as set up when its first `next` arrives: each room
 *      holds one message before anyone subscribes, and each subscribes with afterSeq 0 (the replay answers it).
 *   3. Reconnect storm (BENCH_STORM, default 5000, capped to the servers' file-descriptor limit less 300; 0 skips):
 *      that many clients connecting at once from BENCH_STORM_WORKERS client processes (default 2,
 *      bench/_storm-worker.ts) with BENCH_STORM_CONCURRENCY handshakes under way in all (default 200), each kept open.
 *      Confab: WebSocket upgrade, connection_init (authenticated) → connection_ack, subscribe to roomEvents with
 *      afterSeq one less than a message stored before the storm → its replayed `next`, which marks the subscription as
 *      set up. Floor: the upgrade, then one text frame (the same subscribe frame) answered with one frame. Completed
 *      connects per second (from the start until the last client is answered), each client's time p50/p99, and server
 *      CPU ms per connect. The issue's target: Confab ≥ 1,000 connect+subscribe/s.
 *   4. Two instances with Redis (BENCH_REDIS=0 skips; BENCH_REDIS_URL, default redis://127.0.0.1:6379; skipped with a
 *      message when Redis does not answer PING): one room whose BENCH_REDIS_SUBSCRIBERS subscribers (default
 *      BENCH_SUBSCRIBERS, else 1000) are split half and half over two Confab processes on one SQLite file with Redis
 *      pub/sub (a key prefix of their own, CONFAB_REDIS_PREFIX), messages sent to the first; measured as in 1 (paced
 *      p50/p99, then a burst: deliveries/s, CPU of both processes summed per delivery). The floor here is the same
 *      measurement on ONE instance without Redis, run just before. Every subscription is known to be live before the
 *      measurement starts (probe messages until each subscriber has received the latest).
 *   5. Idle (BENCH_IDLE, default 20000; 0 skips): that many authenticated subscriptions on a fresh Confab server,
 *      opened from client processes (bench/_idle-worker.ts), every one receiving a message sent afterwards; the
 *      server's RSS growth per idle subscriber. One socket per subscriber as far as the server's file-descriptor
 *      limit allows (BENCH_IDLE_SOCKETS; the rest share sockets, which graphql-ws allows): the figure says which.
 *      When the limit is below BENCH_IDLE + 300 the benchmark first tries to raise the server's (`prlimit --pid`, up
 *      to the hard limit without privileges). Also the server's heap after a full GC (through the inspector,
 *      BENCH_HEAP=0 skips), before and after: the live objects per subscriber, without RSS's garbage and spare heap.
 *      The floor: the bare `ws` server holding the same number of sockets (each receiving one frame), its RSS and
 *      heap after GC per socket (BENCH_IDLE_FLOOR=0 skips it). BENCH_IDLE=50000 runs it at 50,000.
 *
 * Child servers and client processes are killed when the benchmark fails or exits.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { pool, rawSubscribe, type RawSubscriber } from './_gql-ws.ts';
import { killOnExit, measure, now, recorder, startRaw, type Result } from './_delivery.ts';
import { benchDatabase, benchOrg, benchUser, percentile, root, sleep, startBenchServer, type BenchServer, type BenchUser } from './_lib.ts';

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 1000); // 0 skips the one-room section
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 40);
// 500 messages: at 1,000 subscribers a burst of 100 lasted about a second on raw `ws`, too short for a steady rate.
const BURST = Number(process.env.BENCH_BURST ?? 500);
const PACE = { messages: MESSAGES, burst: BURST };
const ROOMS = Number(process.env.BENCH_ROOMS ?? 1000);
const ROOM_SIZE = Number(process.env.BENCH_ROOM_SIZE ?? 10);
const ROOM_MESSAGES = Number(process.env.BENCH_ROOM_MESSAGES ?? 2000);
const STORM = Number(process.env.BENCH_STORM ?? 5000);
const STORM_WORKERS = Number(process.env.BENCH_STORM_WORKERS ?? 2);
const STORM_CONCURRENCY = Number(process.env.BENCH_STORM_CONCURRENCY ?? 200);
const REDIS = process.env.BENCH_REDIS !== '0';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const REDIS_SUBSCRIBERS = Number(process.env.BENCH_REDIS_SUBSCRIBERS ?? (N || 1000));
const IDLE = Number(process.env.BENCH_IDLE ?? 20000);
const ms = (x: number) => `${x.toFixed(1)} ms`;
const ratio = (x: number) => x.toFixed(2);

/** A process's file-descriptor limits (soft, hard), from /proc. */
function fdLimits(pid: number): { soft: number; hard: number } {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return { soft: Number(m?.[1] ?? 1024), hard: Number(m?.[2] ?? 1024) };
}

/**
 * Raises a running process's file-descriptor limit to `want` if below (`prlimit --pid`: the hard limit too when
 * privileged, else the soft one up to the hard one). Says what it did, or undefined when nothing was needed.
 */
function raiseFdLimit(pid: number, want: number): string | undefined {
  const before = fdLimits(pid);
  if (before.soft >= want) return undefined;
  const attempts = [`${want}:${Math.max(want, before.hard)}`, ...(before.hard > before.soft ? [`${Math.min(want, before.hard)}:`] : [])];
  const refused: string[] = [];
  for (const nofile of attempts) {
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${nofile}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      break;
    } catch (e) {
      refused.push(String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split('\n')[0].replace(/^prlimit: /, ''));
    }
  }
  const after = fdLimits(pid);
  if (after.soft >= want) return `raised the server's fd limit ${before.soft} → ${after.soft}`;
  const why = `hard limit ${after.hard}${refused.length ? `; prlimit: ${refused.join('; ')}` : ''}`;
  return after.soft > before.soft
    ? `raised the server's fd limit ${before.soft} → ${after.soft}, short of ${want} (${why})`
    : `could not raise the server's fd limit ${before.soft} to ${want} (${why})`;
}

/** Forks a client process of this benchmark, killed if the benchmark exits first. */
function forkClient(script: string, env: Record<string, string>) {
  const child = fork(script, [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  killOnExit(child);
  return child;
}

/** Asks client processes to stop (they close their sockets) and waits for them. */
async function stopClients(workers: ChildProcess[]) {
  for (const w of workers) if (w.connected) w.send({ stop: true });
  await Promise.all(workers.map((w) => (w.exitCode !== null || w.signalCode !== null ? null : new Promise((r) => w.once('exit', r)))));
}

const print = (name: string, r: Result) =>
  console.log(`  ${name.padEnd(7)} per delivery p50 ${ms(r.p50)} p99 ${ms(r.p99)}; last subscriber p99 ${ms(r.lastP99)}; burst ${Math.round(r.perSecond)} deliveries/s, server CPU ${r.cpuUsPerDelivery.toFixed(1)} µs per delivery`);

/** 1a. The floor. */
async function raw(): Promise<Result> {
  const server = await startRaw();
  const rec = recorder();
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < N; i += 250) {
      await Promise.all(Array.from({ length: Math.min(250, N - i) }, () => new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
        sockets.push(ws);
        ws.on('open', () => resolve());
        ws.on('error', reject);
        ws.on('message', (data) => rec.onContent((JSON.parse(String(data)) as any).payload.data.roomEvents.message.content));
      })));
    }
    const send = (content: string, seq: number) => server.send({ content, seq });
    return await measure(send, rec.arrivals, rec.sentAt, N, () => server.cpuMs(), PACE);
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }
}

const EVENTS = `subscription FanoutRoomEvents($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMessageAdded { seq message { content } } } }`;
const EVENTS_AFTER = `subscription FanoutRoomEventsAfter($roomId: ID!, $afterSeq: Int) { roomEvents(roomId: $roomId, afterSeq: $afterSeq) { ... on RoomMessageAdded { seq message { content } } } }`;
const SEND = `mutation FanoutSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;
const CREATE_ROOM = `mutation FanoutRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`;

async function world(server: BenchServer, users: number) {
  const members: BenchUser[] = [];
  for (let i = 0; i < users; i++) members.push(await benchUser(server.gql, `Subscriber ${i}`));
  const orgId = await benchOrg(server.gql, members[0], members.slice(1));
  const { createRoom } = await server.gql(CREATE_ROOM, {
    input: { orgId, type: 'GROUP', name: 'fanout', memberIds: members.slice(1).map((m) => m.id) },
  }, members[0].token);
  return { members, orgId, roomId: createRoom.id as string };
}

/** 1b. Confab. */
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
    return await measure(send, rec.arrivals, rec.sentAt, N, () => server.cpuMs(), PACE);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
    await database.drop();
  }
}

/** 2. Many small rooms. */
interface RoomsResult { perSecond: number; messagesPerSecond: number; cpuUsPerDelivery: number; p50: number; p99: number }
const ROOM_USERS = 20;
const ROOM_IN_FLIGHT = 5;

/** A deterministic draw in [0, 1) (mulberry32), so that both sides send to the same rooms in the same order. */
function draw(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arrival bookkeeping for bursts to many rooms: each content is expected ROOM_SIZE times. */
function roomsRecorder() {
  const sentAt = new Map<string, number>();
  const arrivals = new Map<string, number[]>(); // arrival times (absolute)
  let received = 0;
  return {
    onContent(content: string) {
      const got = arrivals.get(content);
      if (!got) return;
      got.push(now());
      received++;
    },
    /** Sends `count` messages to random rooms, ROOM_IN_FLIGHT at a time, and waits for every delivery. */
    async burst(name: string, count: number, send: (room: number, content: string, seq: number) => Promise<unknown>, cpuMs: () => number): Promise<RoomsResult> {
      const random = draw(count);
      const queue = Array.from({ length: count }, (_, i) => ({ room: Math.floor(random() * ROOMS), content: `${name}-${String(i).padStart(5, '0')}` }));
      const contents = queue.map((m) => m.content);
      for (const c of contents) arrivals.set(c, []);
      const expected = received + count * ROOM_SIZE;
      let seq = 0;
      const cpu = cpuMs();
      const t = now();
      await Promise.all(Array.from({ length: ROOM_IN_FLIGHT }, async () => {
        for (let m = queue.shift(); m; m = queue.shift()) {
          sentAt.set(m.content, now());
          await send(m.room, m.content, ++seq);
        }
      }));
      for (const deadline = Date.now() + 120_000; received < expected; await sleep(2)) {
        if (Date.now() > deadline) throw new Error(`${name}: ${expected - received} deliveries missing (e.g. ${contents.find((c) => arrivals.get(c)!.length < ROOM_SIZE)})`);
      }
      const cpuUsPerDelivery = ((cpuMs() - cpu) * 1000) / (count * ROOM_SIZE);
      let end = -Infinity;
      for (const c of contents) for (const d of arrivals.get(c)!) end = Math.max(end, d);
      const latencies = contents.flatMap((c) => arrivals.get(c)!.map((at) => at - sentAt.get(c)!));
      const seconds = (end - t) / 1000;
      return { perSecond: (count * ROOM_SIZE) / seconds, messagesPerSecond: count / seconds, cpuUsPerDelivery, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
    },
  };
}

/** The unmeasured warm-up burst, then the measured one. */
async function roomsMeasure(rec: ReturnType<typeof roomsRecorder>, send: (room: number, content: string, seq: number) => Promise<unknown>, cpuMs: () => number) {
  await rec.burst('rwarm', Math.max(1, Math.round(ROOM_MESSAGES / 10)), send, cpuMs);
  return rec.burst('rm', ROOM_MESSAGES, send, cpuMs);
}

const CONNECTING = 100; // handshakes under way at once while setting up

const contentOf = (payload: any) => payload.data.roomEvents.message.content as string;

async function rawRooms(): Promise<RoomsResult> {
  const server = await startRaw();
  const rec = roomsRecorder();
  const sockets: WebSocket[] = [];
  try {
    await pool(ROOMS * ROOM_SIZE, CONNECTING, (k) => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/?room=${Math.floor(k / ROOM_SIZE)}`);
      sockets.push(ws);
      ws.on('open', () => resolve());
      ws.on('error', reject);
      ws.on('message', (data) => rec.onContent(contentOf((JSON.parse(String(data)) as { payload: unknown }).payload)));
    }));
    return await roomsMeasure(rec, (room, content, seq) => server.send({ room: String(room), content, seq }), () => server.cpuMs());
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }
}

async function confabRooms(): Promise<RoomsResult> {
  const database = await benchDatabase('sqlite');
  const server = await startBenchServer(database.url, { CONFAB_ACCESS_TOKEN_TTL: String(4 * 3600) });
  const subscribers: RawSubscriber[] = [];
  let failed: Error | undefined;
  try {
    const members: BenchUser[] = [];
    for (let i = 0; i < ROOM_USERS; i++) members.push(await benchUser(server.gql, `Subscriber ${i}`));
    const [owner] = members;
    const orgId = await benchOrg(server.gql, owner, members.slice(1));
    const memberIds = members.slice(1).map((m) => m.id);
    let t = now();
    const roomIds = await pool(ROOMS, 20, async (r) => (await server.gql(CREATE_ROOM, { input: { orgId, type: 'GROUP', name: `room ${r}`, memberIds } }, owner.token)).createRoom.id as string);
    // One stored message per room before anyone subscribes: a subscription with afterSeq 0 gets it replayed first,
    // which says the server has set it up.
    await pool(ROOMS, 10, (r) => server.gql(SEND, { input: { roomId: roomIds[r], content: `ready-${r}` } }, owner.token));
    console.log(`  (Confab: ${ROOMS} rooms created and seeded in ${ms(now() - t)})`);
    t = now();
    const rec = roomsRecorder();
    await pool(ROOMS * ROOM_SIZE, CONNECTING, (k) => new Promise<void>((resolve, reject) => {
      const room = Math.floor(k / ROOM_SIZE);
      let ready = false;
      subscribers.push(rawSubscribe(server.wsUrl, members[k % ROOM_USERS].token, { query: EVENTS_AFTER, variables: { roomId: roomIds[room], afterSeq: 0 } }, {
        next: (payload) => {
          if (ready) return rec.onContent(contentOf(payload));
          ready = true;
          resolve();
        },
        error: (e) => (ready ? (failed ??= e) : reject(e)),
      }));
    }));
    console.log(`  (Confab: ${ROOMS * ROOM_SIZE} subscriptions set up in ${ms(now() - t)})`);
    const result = await roomsMeasure(rec, (room, content) => server.gql(SEND, { input: { roomId: roomIds[room], content } }, owner.token), () => server.cpuMs()).catch((e) => {
      throw failed ?? e; // a subscription that ended explains the deliveries missing
    });
    if (failed) throw failed;
    return result;
  } finally {
    for (const s of subscribers) s.close();
    await server.stop();
    await database.drop();
  }
}

const printRooms = (name: string, r: RoomsResult) =>
  console.log(`  ${name.padEnd(7)} burst ${Math.round(r.perSecond)} deliveries/s (${Math.round(r.messagesPerSecond)} messages/s), server CPU ${r.cpuUsPerDelivery.toFixed(1)} µs per delivery; per delivery p50 ${ms(r.p50)} p99 ${ms(r.p99)} (under the burst)`);

/** 3. Reconnect storm. */
interface StormResult { count: number; perSecond: number; cpuMsPerConnect: number; p50: number; p99: number; seconds: number }

/** STORM_WORKERS client processes open `count` sockets between them at once; times the whole and each. */
async function stormRun(mode: 'raw' | 'confab', url: string, count: number, env: Record<string, string>, cpuMs: () => number): Promise<StormResult> {
  const workers: ChildProcess[] = [];
  try {
    const parts = Math.min(STORM_WORKERS, count);
    const reports: Promise<{ done: number; latencies: number[]; errors: number; firstErrors: string[] }>[] = [];
    await Promise.all(Array.from({ length: parts }, (_, w) => {
      const worker = forkClient('bench/_storm-worker.ts', {
        ...env, MODE: mode, WS_URL: url,
        COUNT: String(Math.floor(count / parts) + (w < count % parts ? 1 : 0)),
        CONCURRENCY: String(Math.max(1, Math.round(STORM_CONCURRENCY / parts))),
      });
      workers.push(worker);
      const exited = new Promise<never>((_, reject) => worker.once('exit', (code) => reject(new Error(`storm worker exited with ${code}`))));
      const report = Promise.race([new Promise<any>((resolve) => worker.on('message', (m: { done?: number }) => m.done !== undefined && resolve(m))), exited]);
      report.catch(() => undefined); // not awaited when the run fails before `go`; its workers then exit
      reports.push(report);
      return Promise.race([new Promise<void>((resolve) => worker.on('message', (m: { ready?: boolean }) => m.ready && resolve())), exited]);
    }));
    const cpu = cpuMs();
    const t = now();
    for (const w of workers) w.send({ go: true });
    const done = await Promise.all(reports);
    const seconds = (now() - t) / 1000;
    const cpuMsPerConnect = (cpuMs() - cpu) / count;
    const errors = done.reduce((s, r) => s + r.errors, 0);
    if (errors) throw new Error(`${mode}: ${errors} of ${count} clients failed, e.g. ${done.flatMap((r) => r.firstErrors).slice(0, 3).join('; ')}`);
    const latencies = done.flatMap((r) => r.latencies);
    return { count, perSecond: count / seconds, cpuMsPerConnect, p50: percentile(latencies, 50), p99: percentile(latencies, 99), seconds };
  } finally {
    await stopClients(workers);
  }
}

/** The floor and Confab, each alone: the same number of clients. */
async function storm(): Promise<{ floor: StormResult; ours: StormResult; fdLimit: number }> {
  const database = await benchDatabase('sqlite');
  const server = await startBenchServer(database.url);
  try {
    const { members, roomId } = await world(server, ROOM_USERS);
    // The message each subscription gets replayed first (afterSeq one less than its seq): its acknowledgement.
    const { sendMessage } = await server.gql(SEND, { input: { roomId, content: 'storm' } }, members[0].token);
    const rawServer = await startRaw();
    const fdLimit = Math.min(fdLimits(server.child.pid!).soft, fdLimits(rawServer.child.pid!).soft);
    const count = Math.min(STORM, fdLimit - 300);
    let floor: StormResult;
    try {
      floor = await stormRun('raw', `ws://127.0.0.1:${rawServer.port}/`, count, {}, () => rawServer.cpuMs());
    } finally {
      await rawServer.stop();
    }
    const ours = await stormRun('confab', server.wsUrl, count, { TOKENS: JSON.stringify(members.map((m) => m.token)), ROOM_ID: roomId, AFTER_SEQ: String(sendMessage.seq - 1) }, () => server.cpuMs());
    return { floor, ours, fdLimit };
  } finally {
    await server.stop();
    await database.drop();
  }
}

const printStorm = (name: string, r: StormResult) =>
  console.log(`  ${name.padEnd(7)} ${Math.round(r.perSecond)} connects/s (all ${r.count} answered in ${r.seconds.toFixed(2)} s), per client p50 ${ms(r.p50)} p99 ${ms(r.p99)}; server CPU ${r.cpuMsPerConnect.toFixed(3)} ms per connect`);

/** 4. Two instances with Redis. */

/** Whether Redis answers PING at `url`; the reason when not. */
function redisUnreachable(url: string): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    const done = (reason?: string) => (socket.destroy(), clearTimeout(timer), resolve(reason));
    const timer = setTimeout(() => done('no answer to PING in 2 s'), 2000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(String(d).startsWith('+PONG') ? undefined : `PING answered ${JSON.stringify(String(d).trim())}`));
    socket.on('error', (e) => done(e.message));
  });
}

/** One room's `count` subscribers spread over `instances` Confab processes on one SQLite file (Redis for two). */
async function roomOnInstances(instances: 1 | 2, count: number): Promise<Result> {
  const database = await benchDatabase('sqlite');
  const env: Record<string, string> = instances === 2 ? { REDIS_URL, CONFAB_REDIS_PREFIX: `confab-bench-${randomBytes(4).toString('hex')}:` } : {};
  const servers: BenchServer[] = [];
  const clients: Client[] = [];
  try {
    servers.push(await startBenchServer(database.url, env));
    const { members, roomId } = await world(servers[0], 10);
    if (instances === 2) servers.push(await startBenchServer(database.url, env));
    const rec = recorder();
    const BATCH = 50;
    for (let i = 0; i < count; i += BATCH) {
      await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => {
        const k = i + j;
        const server = servers[Math.floor((k * instances) / count)]; // the first half on the first, the rest on the second
        const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${members[k % members.length].token}` }, retryAttempts: 0, lazy: false });
        clients.push(client);
        return new Promise<void>((resolve, reject) => {
          const off = client.on('connected', () => (off(), resolve()));
          client.on('closed', (e) => reject(new Error(`subscriber closed: ${(e as { code?: number }).code} ${(e as { reason?: string }).reason}`)));
          client.subscribe<{ roomEvents: { message: { content: string } } }>({ query: EVENTS, variables: { roomId } }, {
            next: (r) => r.data && rec.onContent(r.data.roomEvents.message.content), error: (e) => reject(new Error(`subscription error: ${JSON.stringify(e)}`)), complete: () => {},
          });
        });
      }));
    }
    const send = (content: string) => servers[0].gql(SEND, { input: { roomId, content } }, members[0].token);
    // Connected is not subscribed (nor, across instances, subscribed in Redis): probe until every subscriber has the
    // latest probe (one that missed an earlier probe gets it replayed before the later one).
    for (let i = 0; ; i++) {
      const content = `probe-${i}`;
      rec.arrivals.set(content, []);
      rec.sentAt.set(content, now());
      await send(content);
      const deadline = Date.now() + 3000;
      while ((rec.arrivals.get(content)?.length ?? 0) < count && Date.now() < deadline) await sleep(5);
      if ((rec.arrivals.get(content)?.length ?? 0) >= count) break;
      if (i === 20) throw new Error(`only ${rec.arrivals.get(content)?.length ?? 0} of ${count} subscribers received ${content}`);
    }
    return await measure(send, rec.arrivals, rec.sentAt, count, () => servers.reduce((sum, s) => sum + s.cpuMs(), 0), PACE);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    for (const s of servers.reverse()) await s.stop();
    await database.drop();
  }
}

/** 5a. The idle floor: the bare `ws` server holding `sockets` sockets (each receiving one frame); KB per socket. */
async function idleFloor(sockets: number): Promise<{ rssKb: number; heapKb?: number }> {
  const server = await startRaw({ gc: true });
  const workers: ChildProcess[] = [];
  try {
    await sleep(1500);
    const base = server.rssKb();
    const baseHeap = await server.heapAfterGcKb();
    const PER_WORKER = 4000;
    const parts = Math.ceil(sockets / PER_WORKER);
    let received = 0;
    await Promise.all(Array.from({ length: parts }, (_, w) => {
      const s = Math.floor(sockets / parts) + (w < sockets % parts ? 1 : 0);
      const worker = forkClient('bench/_idle-worker.ts', { RAW: '1', WS_URL: `ws://127.0.0.1:${server.port}/`, SOCKETS: String(s), SUBS: String(s) });
      workers.push(worker);
      worker.on('message', (m: { received?: number }) => m.received && (received += m.received));
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { ready?: number }) => m.ready && resolve());
        worker.once('exit', (code) => reject(new Error(`idle floor worker exited with ${code}`)));
      });
    }));
    await server.send({ content: 'idle-floor', seq: 1 });
    for (const deadline = Date.now() + 60_000; received < sockets; await sleep(20)) if (Date.now() > deadline) throw new Error(`only ${received} of ${sockets} floor sockets received its frame`);
    await sleep(3000);
    const loaded = server.rssKb();
    const loadedHeap = await server.heapAfterGcKb();
    const r = { rssKb: (loaded - base) / sockets, heapKb: baseHeap !== undefined && loadedHeap !== undefined ? (loadedHeap - baseHeap) / sockets : undefined };
    console.log(`  floor: raw ws server holding ${sockets} sockets (each received a frame): RSS ${(base / 1024).toFixed(1)} MB → ${(loaded / 1024).toFixed(1)} MB = ${r.rssKb.toFixed(1)} KB per socket` +
      (r.heapKb !== undefined ? `; heap after a full GC ${(baseHeap! / 1024).toFixed(1)} MB → ${(loadedHeap! / 1024).toFixed(1)} MB = ${r.heapKb.toFixed(1)} KB per socket` : ''));
    return r;
  } finally {
    await stopClients(workers);
    await server.stop();
  }
}

/** 5b. Idle subscribers. */
async function idle() {
  const database = await benchDatabase('sqlite');
  // Access tokens that outlast the connecting (a loaded machine took over 15 minutes, the default lifetime).
  const server = await startBenchServer(database.url, { CONFAB_ACCESS_TOKEN_TTL: String(4 * 3600) }, { inspect: process.env.BENCH_HEAP !== '0' });
  const workers: ReturnType<typeof fork>[] = [];
  try {
    const raised = raiseFdLimit(server.child.pid!, IDLE + 300);
    if (raised) console.log(`  (${raised})`);
    const { members, roomId } = await world(server, 20);
    const fdLimit = fdLimits(server.child.pid!).soft;
    const sockets = Math.min(IDLE, Number(process.env.BENCH_IDLE_SOCKETS ?? fdLimit - 300));
    const floor = process.env.BENCH_IDLE_FLOOR === '0' ? undefined : await idleFloor(sockets);
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
      const worker = forkClient('bench/_idle-worker.ts', { WS_URL: server.wsUrl, TOKENS: JSON.stringify(members.map((m) => m.token)), ROOM_ID: roomId, SOCKETS: String(s), SUBS: String(subs) });
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
    const heapPerSub = baseHeap !== undefined && loadedHeap !== undefined ? (loadedHeap - baseHeap) / IDLE : undefined;
    if (heapPerSub !== undefined) {
      console.log(`  server heap after a full GC ${(baseHeap! / 1024).toFixed(1)} MB → ${(loadedHeap! / 1024).toFixed(1)} MB = ${heapPerSub.toFixed(1)} KB per idle subscriber (live objects; BENCH_HEAP=0 skips)`);
    }
    if (floor) {
      // Per socket, as the floor's: with shared sockets that is several subscribers' worth for Confab.
      const perSocket = IDLE / sockets;
      const heap = heapPerSub !== undefined && floor.heapKb !== undefined ? `live heap ${(heapPerSub * perSocket).toFixed(1)} vs ${floor.heapKb.toFixed(1)} KB = ×${((heapPerSub * perSocket) / floor.heapKb).toFixed(1)}, ` : '';
      const rss = (loaded - base) / sockets;
      console.log(`  ratio Confab ÷ raw ws per socket (${perSocket.toFixed(2)} subscriptions per Confab socket): ${heap}RSS ${rss.toFixed(1)} vs ${floor.rssKb.toFixed(1)} KB = ×${(rss / floor.rssKb).toFixed(1)}` +
        (heapPerSub !== undefined ? `; Confab ${heapPerSub.toFixed(1)} KB live heap and ${((loaded - base) / IDLE).toFixed(1)} KB RSS per subscriber` : ''));
    }
    if (process.env.BENCH_HEAP_SNAPSHOT) {
      // With BENCH_SERVER_NODE_ARGS=--heapsnapshot-signal=SIGUSR2: a heap snapshot of the loaded server (in its cwd).
      server.child.kill('SIGUSR2');
      await sleep(Number(process.env.BENCH_HEAP_SNAPSHOT_WAIT ?? 30_000));
    }
  } finally {
    await stopClients(workers);
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
if (ROOMS > 0) {
  console.log(`many small rooms: ${ROOMS} rooms × ${ROOM_SIZE} subscribers (${ROOM_USERS} users, one socket per subscriber), a burst of ${ROOM_MESSAGES} messages to random rooms, ${ROOM_IN_FLIGHT} in flight:`);
  const floor = await rawRooms();
  printRooms('raw ws', floor);
  const ours = await confabRooms();
  printRooms('Confab', ours);
  console.log(`  ratio Confab ÷ raw deliveries/s: ${ratio(ours.perSecond / floor.perSecond)}; server CPU per delivery ×${(ours.cpuUsPerDelivery / floor.cpuUsPerDelivery).toFixed(1)} of raw; p99 ${ms(ours.p99)} (Confab) vs ${ms(floor.p99)} (raw)`);
}
if (STORM > 0) {
  console.log(`reconnect storm: ${STORM} clients connecting at once (${STORM_WORKERS} client processes, ${STORM_CONCURRENCY} handshakes under way):`);
  const { floor, ours, fdLimit } = await storm();
  if (ours.count < STORM) console.log(`  (${ours.count} clients: the servers' fd limit is ${fdLimit})`);
  printStorm('raw ws', floor);
  printStorm('Confab', ours);
  console.log(`  ratio Confab ÷ raw connects/s: ${ratio(ours.perSecond / floor.perSecond)} (Confab ${Math.round(ours.perSecond)} authenticated connect+subscribe/s; target ≥ 1000); server CPU per connect ×${(ours.cpuMsPerConnect / floor.cpuMsPerConnect).toFixed(1)} of raw`);
}
if (REDIS) {
  const unreachable = await redisUnreachable(REDIS_URL);
  if (unreachable) console.log(`two instances with Redis: skipped, Redis at ${REDIS_URL} unreachable (${unreachable})`);
  else {
    console.log(`two instances with Redis: one room, ${REDIS_SUBSCRIBERS} subscribers split over two Confab processes (one SQLite file, Redis at ${REDIS_URL}), messages sent to the first; against one instance without Redis:`);
    const one = await roomOnInstances(1, REDIS_SUBSCRIBERS);
    print('1 inst.', one);
    const two = await roomOnInstances(2, REDIS_SUBSCRIBERS);
    print('2+Redis', two);
    console.log(`  ratio two instances with Redis ÷ one without deliveries/s: ${ratio(two.perSecond / one.perSecond)}; p50 ${ms(two.p50)} vs ${ms(one.p50)}, p99 ${ms(two.p99)} vs ${ms(one.p99)}; server CPU per delivery (both processes summed) ×${(two.cpuUsPerDelivery / one.cpuUsPerDelivery).toFixed(1)} of one`);
  }
}
if (IDLE > 0) {
  console.log('idle subscribers:');
  await idle();
}
