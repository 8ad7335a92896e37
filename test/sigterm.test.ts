import { afterAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { ChatSendDoc, createThread } from './helpers/chat.ts';
import { subscribe, type GqlClient } from './helpers/client.ts';
import { createTestDatabase } from './helpers/db.ts';
import { startFakeOpenAI } from './helpers/fake-openai.ts';
import { LoadSend, LoadSpend, loadWorld, processConfig, runSenders, startProcess, storedMessages, storedSession, until } from './helpers/load.ts';

const RoomWatch = graphql(`subscription SigtermRoomWatch($roomId: ID!) { roomEvents(roomId: $roomId) { __typename } }`);
const ThreadMessages = graphql(`
  query SigtermThreadMessages($id: ID!) { thread(id: $id) { messages(first: 50) { edges { node { role status content } } } } }
`);

/** Error codes a client may see (DESIGN.md "Errors"); anything else under load is a defect. */
const DOCUMENTED = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'PAYMENT_REQUIRED', 'RATE_LIMITED', 'GONE'];
const SHUTDOWN_MS = 20_000;
const SLOW_MODEL = 'gpt-slow';
/** ~3 s of streaming per turn: long enough to still run when SIGTERM arrives. */
const REPLY = Array.from({ length: 24 }, (_, i) => ` w${i}`);

type Ack = { roomId: string; id: string; seq: number; clientMsgId: string };

/**
 * Sends room messages over graphql-ws, one after another, until the server closes the socket; records
 * what was answered. Returns the close code.
 */
async function socketSender(client: GqlClient, token: string, roomId: string, name: string, acks: Ack[], connected: () => void) {
  const ws = client.ws({ token });
  const closed = new Promise<number>((resolve) => ws.on('closed', (e: any) => resolve(e.code)));
  ws.on('connected', () => connected());
  // A live subscription keeps the (lazy) connection open between sends, as in a chat client.
  subscribe(ws, RoomWatch, { roomId });
  for (let n = 0; ; n++) {
    const clientMsgId = `${name}-${n}`;
    const res = await new Promise<any>((resolve) => {
      let result: any = null;
      ws.subscribe({ query: String(LoadSend), variables: { input: { roomId, content: `socket ${clientMsgId}`, clientMsgId } } }, {
        next: (r) => (result = r),
        error: () => resolve(null),
        complete: () => resolve(result),
      });
    });
    if (!res?.data?.sendMessage) break;
    acks.push({ roomId, ...res.data.sendMessage, clientMsgId });
  }
  return closed;
}

/**
 * SIGTERM under load: a real server process gets SIGTERM while room senders, paid-session spenders,
 * slow assistant turns (thread and paid, streamed by a slow OpenAI-compatible fake) and live
 * subscribers are all busy. What was accepted finishes with its normal answer; sockets close with 1001;
 * the process exits 0 within its drain window; after a restart on the same database, exactly what was
 * acknowledged is stored (nothing cut half-way), seqs are contiguous and balances add up.
 */
describe('SIGTERM under load', () => {
  it('finishes accepted work, closes sockets with 1001, exits 0 in time, and stores exactly what it acknowledged', async () => {
    const database = await createTestDatabase();
    afterAll(() => database.drop());
    const fake = await startFakeOpenAI({ reply: REPLY, delayMs: 120 });
    const config = processConfig(
      `[server]\nshutdown_timeout_ms = ${SHUTDOWN_MS}\n[models]\ndefault = "echo"\nallowed = ["echo", "${SLOW_MODEL}"]\n` +
        `[providers.openai]\nbase_url = "${fake.baseUrl}"\napi_key = "sk-fake"\n`,
    );
    const env = { DATABASE_URL: database.url, CONFAB_CONFIG: config };
    const first = await startProcess(env);
    // Sessions 0-2 for the spenders, 3-4 for the slow paid turns (one request at a time per session).
    const world = await loadWorld(first.server, 2, 5);
    const threads = await Promise.all(world.users.slice(0, 3).map((u) => createThread(first.server, u.token, world.orgId)));

    // Live subscribers, connected before the load starts.
    const sockets = world.users.slice(0, 3).map((u, i) => {
      const ws = first.client.ws({ token: u.token });
      const connected = new Promise<void>((resolve) => ws.on('connected', () => resolve()));
      const closed = new Promise<number>((resolve) => ws.on('closed', (e: any) => resolve(e.code)));
      subscribe(ws, RoomWatch, { roomId: world.roomIds[i % world.roomIds.length] });
      return { connected, closed };
    });
    await Promise.all(sockets.map((s) => s.connected));

    // Senders run until the process is gone: those after SIGTERM are refused at the door. Four more
    // send over graphql-ws; their sockets close (1001) once the message under way is answered.
    const { acks, done } = runSenders(first.client, { ...world, sessions: world.sessions.slice(0, 3) }, 20, 3, first.proc.exited);
    const socketAcks: Ack[] = [];
    let socketsUp = 0;
    const socketSenders = [3, 4, 3, 4].map((u, i) =>
      socketSender(first.client, world.users[u].token, world.roomIds[i % world.roomIds.length], `ws${i}`, socketAcks, () => socketsUp++),
    );
    const threadTurns = threads.map((t, i) =>
      first.client.gql(ChatSendDoc, { input: { threadId: t.id, content: `slow ${i}`, model: SLOW_MODEL, clientMsgId: `t${i}` } }, { token: world.users[i].token }),
    );
    const paidTurns = world.sessions.slice(3, 5).map((s, i) =>
      first.client.gql(LoadSpend, { input: { sessionId: s.id, content: `paid slow ${i}`, model: SLOW_MODEL, clientMsgId: `p${i}` } }, { token: s.token }),
    );
    const slowStarted = () => fake.requests.filter((r) => r.path.endsWith('/chat/completions')).length >= threads.length + paidTurns.length;
    await until(() => slowStarted() && acks.messages.length >= 30 && acks.debits.length >= 3 && socketAcks.length >= 8, 120_000);
    const early: unknown[] = [];
    for (const turn of [...threadTurns, ...paidTurns]) void turn.then((r) => early.push(r.errors ?? r.data));
    await new Promise((r) => setImmediate(r));
    expect(slowStarted(), `every slow turn reached the provider before SIGTERM; answered already: ${JSON.stringify(early)}`).toBe(true);
    const before = { messages: acks.messages.length, debits: acks.debits.length, socket: socketAcks.length };

    const signalledAt = Date.now();
    first.proc.child.kill('SIGTERM');
    expect(socketsUp).toBe(socketSenders.length);
    expect(await Promise.all(sockets.map((s) => s.closed))).toEqual(sockets.map(() => 1001));
    expect(await Promise.all(socketSenders)).toEqual(socketSenders.map(() => 1001));
    expect(await first.proc.exited, first.proc.output()).toBe(0);
    const drainMs = Date.now() - signalledAt;
    expect(drainMs).toBeLessThan(SHUTDOWN_MS);
    await done;

    // The slow turns were mid-stream at SIGTERM: each ends with its whole reply.
    for (const res of await Promise.all(threadTurns)) {
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data?.sendThreadMessage.assistantMessage).toMatchObject({ status: 'COMPLETE', content: REPLY.join('') });
    }
    for (const res of await Promise.all(paidTurns)) {
      expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
      expect(res.data?.sendSessionMessage.request?.status).toBe('COMPLETED');
    }
    expect(Object.keys(acks.codes).filter((c) => !DOCUMENTED.includes(c)), JSON.stringify(acks.codes)).toEqual([]);
    console.log(
      `sigterm: drained in ${drainMs} ms; acknowledged ${acks.messages.length} messages over HTTP (${acks.messages.length - before.messages} after SIGTERM), ` +
        `${socketAcks.length} over graphql-ws (${socketAcks.length - before.socket} after), ` +
        `and ${acks.debits.length} debits (${acks.debits.length - before.debits} after); ${acks.failed} refused at the door; codes ${JSON.stringify(acks.codes)}`,
    );

    const second = await startProcess(env);
    const reader = world.users[0].token;
    for (const roomId of world.roomIds) {
      const { lastSeq, all } = await storedMessages(second.server, reader, roomId);
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      const acked = [...acks.messages, ...socketAcks].filter((m) => m.roomId === roomId);
      // Exactly the acknowledged messages: none lost, none stored whose sender never got an answer.
      expect(all.map((m) => m.clientMsgId).sort()).toEqual(acked.map((m) => m.clientMsgId).sort());
      const byId = new Map(all.map((m) => [m.id, m]));
      for (const ack of acked) expect(byId.get(ack.id)).toMatchObject({ seq: ack.seq, clientMsgId: ack.clientMsgId });
    }
    const paidIds = new Set((await Promise.all(paidTurns)).map((r) => r.data!.sendSessionMessage.request!.id));
    for (const s of world.sessions) {
      const { balance, deposits, requests } = await storedSession(second.server, s.token, s.id);
      const acked = new Map(acks.debits.filter((d) => d.sessionId === s.id).map((d) => [d.id, d]));
      for (const r of requests) {
        expect(acked.has(r.id) || paidIds.has(r.id), `request ${r.id} was stored without an answer`).toBe(true);
        expect(r.status).not.toBe('PENDING');
        if (acked.has(r.id)) expect(r).toMatchObject({ status: acked.get(r.id)!.status, chargedSats: acked.get(r.id)!.chargedSats });
      }
      expect(requests.length).toBe(acked.size + requests.filter((r) => paidIds.has(r.id)).length);
      expect(balance).toBe(deposits - requests.reduce((sum, r) => sum + r.chargedSats, 0));
    }
    for (const [i, t] of threads.entries()) {
      const { thread } = await second.server.ok(ThreadMessages, { id: t.id }, { token: world.users[i].token });
      expect(thread!.messages.edges.map((e) => [e.node.role, e.node.status])).toEqual([
        ['USER', 'COMPLETE'],
        ['ASSISTANT', 'COMPLETE'],
      ]);
    }
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  }, 300_000);
});

describe('SIGTERM with a reply whose client went away', () => {
  it.each([
    { drainMs: 10_000, ends: 'COMPLETE', what: 'finishes and stores itself before the process exits' },
    { drainMs: 1000, ends: 'FAILED', what: 'is stopped at the end of the drain window and stored as FAILED, not left STREAMING' },
  ])('a reply still running at SIGTERM $what', async ({ drainMs, ends }) => {
    const database = await createTestDatabase();
    afterAll(() => database.drop());
    // ~7 s of reply: well past the moment the HTTP drain alone would let the process go.
    const fake = await startFakeOpenAI({ reply: REPLY, delayMs: 300 });
    const config = processConfig(`[server]\nshutdown_timeout_ms = ${drainMs}\n[models]\ndefault = "echo"\nallowed = ["echo", "${SLOW_MODEL}"]\n[providers.openai]\nbase_url = "${fake.baseUrl}"\napi_key = "sk-fake"\n`);
    const env = { DATABASE_URL: database.url, CONFAB_CONFIG: config };
    const first = await startProcess(env);
    const world = await loadWorld(first.server, 0, 0);
    const owner = world.users[0];
    const thread = await createThread(first.server, owner.token, world.orgId);

    // The client gives up mid-reply: no connection holds the turn any more.
    const gone = new AbortController();
    const request = fetch(`${first.proc.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
      body: JSON.stringify({ query: String(ChatSendDoc), variables: { input: { threadId: thread.id, content: 'hello', model: SLOW_MODEL } } }),
      signal: gone.signal,
    }).catch((err: Error) => err.name);
    await until(() => fake.requests.length > 0, 30_000);
    gone.abort();
    expect(await request).toBe('AbortError');

    const signalledAt = Date.now();
    first.proc.child.kill('SIGTERM');
    expect(await first.proc.exited, first.proc.output()).toBe(0);
    console.log(`sigterm: a reply without its client held the exit for ${Date.now() - signalledAt} ms (drain window ${drainMs} ms)`);

    const second = await startProcess(env);
    const { thread: stored } = await second.server.ok(ThreadMessages, { id: thread.id }, { token: owner.token });
    expect(stored!.messages.edges.map((e) => [e.node.role, e.node.status])).toEqual([
      ['USER', 'COMPLETE'],
      ['ASSISTANT', ends],
    ]);
    if (ends === 'COMPLETE') expect(stored!.messages.edges[1].node.content).toBe(REPLY.join(''));
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited).toBe(0);
  }, 180_000);
});
