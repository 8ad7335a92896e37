/**
 * Inbox fan-out benchmark: `npm run bench inbox`. What a room-list client holds is ONE `inbox` subscription (per
 * user, docs/api/inbox.md), not a roomEvents per room; this measures a message reaching every member's inbox.
 *
 * One room of BENCH_INBOX_SUBSCRIBERS members (default 1000), each a separate user with one `inbox` subscription
 * (the web client's InboxMessageAdded selection, web/src/ui/rooms.tsx), messages sent over HTTP (sendMessage) by one
 * more member without a subscription. The floor, measured first in the same run: the bare `ws` server
 * (bench/_raw-ws.ts) writing a frame of the same shape and size (`shape: 'inbox'`) to as many clients. For both:
 * BENCH_INBOX_MESSAGES messages one at a time (default 40, paced), each timed from the start of the send request
 * (for Confab sendMessage, so the figure includes the commit) to its arrival at every subscriber: p50/p99; then a
 * burst of BENCH_INBOX_BURST messages (default 300), five in flight: deliveries/s and the server's CPU time per
 * delivery (from /proc/<pid>/stat, the steadiest figure on a busy machine). One `ratio` line: Confab ÷ floor.
 *
 * For context (BENCH_INBOX_ROOM_EVENTS=0 skips): the same server, room and users, the inbox subscriptions closed and
 * each user subscribed to roomEvents of the room instead (fanout's selection), measured the same way.
 *
 * Subscribers speak graphql-transport-ws on bare `ws` sockets (bench/_gql-ws.ts), so the client side costs the same
 * per frame on both sides. The members are seeded straight into the SQLite file (users and org memberships, as
 * registering and inviting a thousand users through the API takes minutes), then added to the room through the API
 * (createRoom, addRoomMembers: 500 at a time); their access tokens are signed with the benchmark server's secret.
 * Every subscription is known to be live before the measurement starts (probe messages until every subscriber has
 * the latest). Child processes are killed when the benchmark fails or exits.
 */
import { randomBytes } from 'node:crypto';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { signAccessToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { measure, now, recorder, startRaw, type Result } from './_delivery.ts';
import { pool, rawSubscribe, type RawSubscriber } from './_gql-ws.ts';
import { BENCH_SECRET, benchDatabase, benchOrg, benchUser, sleep, startBenchServer, type BenchServer } from './_lib.ts';

const N = Number(process.env.BENCH_INBOX_SUBSCRIBERS ?? 1000);
const MESSAGES = Number(process.env.BENCH_INBOX_MESSAGES ?? 40);
const BURST = Number(process.env.BENCH_INBOX_BURST ?? 300);
const ROOM_EVENTS = process.env.BENCH_INBOX_ROOM_EVENTS !== '0';
const PACE = { messages: MESSAGES, burst: BURST };
const CONNECTING = 50; // handshakes under way at once while setting up (graphql-ws gives connection_init 3 s)
const TOKEN_TTL_S = 4 * 3600; // a socket is closed when its token expires: longer than any run

const ms = (x: number) => `${x.toFixed(1)} ms`;

const INBOX = `subscription InboxBench { inbox { __typename ... on InboxMessageAdded { cursor seq unreadCount mentionCount snippet room { id } author { id name } } } }`;
const EVENTS = `subscription InboxBenchRoomEvents($roomId: ID!) { roomEvents(roomId: $roomId) { ... on RoomMessageAdded { seq message { content } } } }`;
const SEND = `mutation InboxBenchSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;
const CREATE_ROOM = `mutation InboxBenchRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`;
const ADD_MEMBERS = `mutation InboxBenchAdd($input: AddRoomMembersInput!) { addRoomMembers(input: $input) { id } }`;

interface Measured extends Result { frameBytes: number }

const print = (name: string, r: Measured) =>
  console.log(`  ${name.padEnd(10)} per delivery p50 ${ms(r.p50)} p99 ${ms(r.p99)}; last subscriber p99 ${ms(r.lastP99)}; burst ${Math.round(r.perSecond)} deliveries/s, server CPU ${r.cpuUsPerDelivery.toFixed(1)} µs per delivery (frame ${r.frameBytes} B)`);

/** The floor: the bare `ws` server writing an inbox-shaped frame to N clients. */
async function raw(): Promise<Measured> {
  const server = await startRaw();
  const rec = recorder();
  const sockets: WebSocket[] = [];
  let frameBytes = 0;
  try {
    await pool(N, CONNECTING * 2, (k) => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}`);
      sockets.push(ws);
      ws.on('open', () => resolve());
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        if (k === 0) frameBytes = data.length;
        rec.onContent((JSON.parse(String(data)) as any).payload.data.inbox.snippet);
      });
    }));
    const result = await measure((content, seq) => server.send({ content, seq, shape: 'inbox' }), rec.arrivals, rec.sentAt, N, () => server.cpuMs(), PACE);
    return { ...result, frameBytes };
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }
}

/**
 * N users, members of a new org, straight into the SQLite file (a row each in User and Membership, the rest of
 * their columns copied from `template`'s rows or left to their defaults), with access tokens signed as the server
 * signs them. Their ids are global (as the API's).
 */
async function seedUsers(databaseUrl: string, template: string, orgId: string, n: number): Promise<{ id: string; token: string }[]> {
  const sqlite = new Database(databaseUrl.slice('file:'.length));
  sqlite.pragma('busy_timeout = 15000');
  const templateId = decodeGlobalID(template).id;
  const orgRawId = decodeGlobalID(orgId).id;
  const tag = randomBytes(4).toString('hex');
  const ids = Array.from({ length: n }, (_, i) => `cinbox${tag}${String(i).padStart(11, '0')}`.slice(0, 25));
  try {
    const addUser = sqlite.prepare(`INSERT INTO "User" ("id", "email", "name", "passwordHash", "createdAt", "updatedAt")
      SELECT ?, ?, ?, "passwordHash", "createdAt", "updatedAt" FROM "User" WHERE "id" = ?`);
    const addMember = sqlite.prepare(`INSERT INTO "Membership" ("id", "orgId", "userId", "role", "createdAt")
      SELECT ?, ?, ?, 'MEMBER', "createdAt" FROM "Membership" WHERE "userId" = ? AND "orgId" = ?`);
    sqlite.transaction(() => {
      ids.forEach((id, i) => {
        if (addUser.run(id, `inbox-${tag}-${i}@example.com`, `Member ${i}`, templateId).changes !== 1) throw new Error('seeding a user failed');
        if (addMember.run(`m${id.slice(1)}`, orgRawId, id, templateId, orgRawId).changes !== 1) throw new Error('seeding a membership failed');
      });
    })();
  } finally {
    sqlite.close();
  }
  const config = loadConfig({ env: {}, file: false, overrides: { auth: { secretKey: BENCH_SECRET, accessTokenTtl: TOKEN_TTL_S } } as any });
  return Promise.all(ids.map(async (id) => ({ id: encodeGlobalID('User', id), token: await signAccessToken(config, id) })));
}

/**
 * N subscribers, one per user, each with one subscription (`query`); `contentOf` picks the message's content out of
 * a `next` payload. Resolved once every socket has its connection_ack; probe messages then show them all live.
 */
async function subscribe(server: BenchServer, tokens: string[], request: { query: string; variables: Record<string, unknown> }, contentOf: (payload: any) => string | undefined, onContent: (content: string) => void, onError: (e: Error) => void) {
  const subscribers: RawSubscriber[] = [];
  let frameBytes = 0;
  await pool(tokens.length, CONNECTING, (k) => new Promise<void>((resolve, reject) => {
    let acked = false;
    const s = rawSubscribe(server.wsUrl, tokens[k], request, {
      next: (payload) => {
        const content = contentOf(payload);
        if (content !== undefined) onContent(content);
      },
      error: (e) => (acked ? onError(e) : reject(e)),
    });
    subscribers.push(s);
    s.ws.on('message', (data: Buffer) => {
      if (k === 0 && !String(data).includes('"connection_ack"')) frameBytes = data.length;
      if (!acked && String(data).includes('"connection_ack"')) {
        acked = true;
        resolve();
      }
    });
  }));
  return { subscribers, frameBytes: () => frameBytes };
}

/** Probe messages until every one of `count` subscribers has the latest (one that missed an earlier probe gets the later). */
async function probe(send: (content: string) => Promise<unknown>, rec: ReturnType<typeof recorder>, count: number, name: string) {
  for (let i = 0; ; i++) {
    const content = `probe-${name}-${i}`;
    rec.arrivals.set(content, []);
    rec.sentAt.set(content, now());
    await send(content);
    const deadline = Date.now() + 5000;
    while ((rec.arrivals.get(content)?.length ?? 0) < count && Date.now() < deadline) await sleep(5);
    if ((rec.arrivals.get(content)?.length ?? 0) >= count) return;
    if (i === 20) throw new Error(`only ${rec.arrivals.get(content)?.length ?? 0} of ${count} subscribers received ${content}`);
  }
}

/** Confab: inbox subscribers, then (for context) roomEvents subscribers of the same users. */
async function confab(): Promise<{ inbox: Measured; roomEvents?: Measured }> {
  const database = await benchDatabase('sqlite');
  const server = await startBenchServer(database.url);
  let subscribers: RawSubscriber[] = [];
  let failed: Error | undefined;
  const onError = (e: Error) => void (failed ??= e);
  try {
    let t = now();
    const sender = await benchUser(server.gql, 'Sender');
    const orgId = await benchOrg(server.gql, sender);
    const members = await seedUsers(database.url, sender.id, orgId, N);
    const memberIds = members.map((m) => m.id);
    const { createRoom } = await server.gql(CREATE_ROOM, { input: { orgId, type: 'GROUP', name: 'inbox bench', memberIds: memberIds.slice(0, 500) } }, sender.token);
    const roomId = createRoom.id as string;
    for (let i = 500; i < memberIds.length; i += 500) await server.gql(ADD_MEMBERS, { input: { roomId, userIds: memberIds.slice(i, i + 500) } }, sender.token);
    const setup = now() - t;
    const send = (content: string) => server.gql(SEND, { input: { roomId, content } }, sender.token);
    const tokens = members.map((m) => m.token);

    const run = async (name: string, request: { query: string; variables: Record<string, unknown> }, contentOf: (payload: any) => string | undefined): Promise<Measured> => {
      const rec = recorder();
      t = now();
      const subs = await subscribe(server, tokens, request, contentOf, rec.onContent, onError);
      subscribers = subs.subscribers;
      await probe(send, rec, N, name);
      console.log(`  (Confab: ${N} ${name} subscriptions connected and live in ${ms(now() - t)})`);
      const result = await measure(send, rec.arrivals, rec.sentAt, N, () => server.cpuMs(), PACE).catch((e) => {
        throw failed ?? e; // a subscription that ended explains the deliveries missing
      });
      if (failed) throw failed;
      for (const s of subscribers) s.close();
      subscribers = [];
      return { ...result, frameBytes: subs.frameBytes() };
    };

    console.log(`  (Confab: ${N} members seeded and added to the room in ${ms(setup)})`);
    const inbox = await run('inbox', { query: INBOX, variables: {} }, (p) => (p.data?.inbox?.__typename === 'InboxMessageAdded' ? p.data.inbox.snippet : undefined));
    if (!ROOM_EVENTS) return { inbox };
    await sleep(1000); // the closed sockets' clean-up, outside the next measurement
    const roomEvents = await run('roomEvents', { query: EVENTS, variables: { roomId } }, (p) => p.data?.roomEvents?.message?.content);
    return { inbox, roomEvents };
  } finally {
    for (const s of subscribers) s.close();
    await server.stop();
    await database.drop();
  }
}

if (N > 0) {
  console.log(`inbox fan-out: one room, ${N} members each with one \`inbox\` subscription (${MESSAGES} paced messages, then a burst of ${BURST}, five in flight):`);
  const floor = await raw();
  print('raw ws', floor);
  const ours = await confab();
  print('inbox', ours.inbox);
  if (ours.roomEvents) print('roomEvents', ours.roomEvents);
  const x = (a: number, b: number) => `×${(a / b).toFixed(1)}`;
  console.log(`  ratio Confab inbox ÷ raw ws server CPU per delivery: ${x(ours.inbox.cpuUsPerDelivery, floor.cpuUsPerDelivery)} (${ours.inbox.cpuUsPerDelivery.toFixed(1)} vs ${floor.cpuUsPerDelivery.toFixed(1)} µs); deliveries/s Confab ÷ raw ${(ours.inbox.perSecond / floor.perSecond).toFixed(2)}; p99 ${ms(ours.inbox.p99)} vs ${ms(floor.p99)}` +
    (ours.roomEvents ? `; for context, roomEvents on the same server ${x(ours.roomEvents.cpuUsPerDelivery, floor.cpuUsPerDelivery)} of raw (inbox ÷ roomEvents ${x(ours.inbox.cpuUsPerDelivery, ours.roomEvents.cpuUsPerDelivery)})` : ''));
}
