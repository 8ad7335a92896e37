/**
 * Write benchmark: `npm run bench send`.
 *
 * 100 concurrent senders (20 members of one org, five requests in flight each) send sendMessage into one room for
 * BENCH_SECONDS (default 10) against a server process, on SQLite and then PostgreSQL (BENCH_DBS=sqlite,postgresql).
 * Prints acknowledged messages/s, request latency p50/p99 and the server's CPU per message, then checks that the
 * room's seqs are exactly 1..N, and the group commit's batch sizes (from /metrics). BENCH_SENDERS changes the concurrency.
 */
import { benchDatabase, benchOrg, benchUser, percentile, startBenchServer, type BenchUser } from './_lib.ts';

const SENDERS = Number(process.env.BENCH_SENDERS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgresql').split(',') as ('sqlite' | 'postgresql')[];
const SEND = `mutation SendBenchSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`;

/** The server's group-commit counters (GET /metrics). */
async function batchCounts(origin: string) {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    commits: read('confab_room_send_commits'),
    messages: read('confab_room_send_messages'),
    largest: read('confab_room_send_batch_largest'),
    fallbacks: read('confab_room_send_fallbacks'),
  };
}

async function run(kind: 'sqlite' | 'postgresql') {
  const database = await benchDatabase(kind);
  const server = await startBenchServer(database.url);
  try {
    const { gql } = server;
    const users: BenchUser[] = [];
    for (let i = 0; i < 20; i++) users.push(await benchUser(gql, `Sender ${i}`));
    const orgId = await benchOrg(gql, users[0], users.slice(1));
    const { createRoom } = await gql(`mutation SendBenchRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`, {
      input: { orgId, type: 'GROUP', name: 'busy', memberIds: users.slice(1).map((u) => u.id) },
    }, users[0].token);
    const roomId: string = createRoom.id;

    const loop = async (s: number, until: number, latencies: number[] | null) => {
      let n = 0;
      for (; performance.now() < until; n++) {
        const t = performance.now();
        await gql(SEND, { input: { roomId, content: `message ${s}-${n} ${'x'.repeat(60)}` } }, users[s % users.length].token);
        latencies?.push(performance.now() - t);
      }
      return n;
    };
    await Promise.all(Array.from({ length: SENDERS }, (_, s) => loop(s, performance.now() + 2000, null))); // warm-up

    const latencies: number[] = [];
    const batches = await batchCounts(server.origin);
    const cpu = server.cpuMs();
    const t = performance.now();
    const counts = await Promise.all(Array.from({ length: SENDERS }, (_, s) => loop(s, t + SECONDS * 1000, latencies)));
    const elapsed = (performance.now() - t) / 1000;
    const sent = counts.reduce((a, b) => a + b, 0);
    const cpuPer = (server.cpuMs() - cpu) / sent;
    const after = await batchCounts(server.origin);
    const commits = after.commits - batches.commits;

    const { room } = await gql(`query SendBenchRoomSeq($id: ID!) { room(id: $id) { lastSeq } }`, { id: roomId }, users[0].token);
    let seqs = 0;
    let expected = 1;
    for (let after = 0; ; ) {
      const { room: page } = await gql(`query SendBenchPage($id: ID!, $after: Int!) { room(id: $id) { messages(afterSeq: $after, first: 100) { edges { node { seq } } } } }`, { id: roomId, after }, users[0].token);
      const messages: { seq: number }[] = page.messages.edges.map((e: { node: { seq: number } }) => e.node);
      if (!messages.length) break;
      for (const m of messages) if (m.seq === expected) expected++;
      seqs += messages.length;
      after = messages.at(-1)!.seq;
    }
    const gapFree = seqs === room.lastSeq && expected === room.lastSeq + 1;
    console.log(`${kind}: ${Math.round(sent / elapsed)} messages/s (${sent} in ${elapsed.toFixed(1)} s, ${SENDERS} concurrent senders, one room); ` +
      `latency p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms; server CPU ${cpuPer.toFixed(2)} ms/message; ` +
      `${commits} commits, mean batch ${((after.messages - batches.messages) / Math.max(commits, 1)).toFixed(1)}, largest ${after.largest}, fallbacks ${after.fallbacks - batches.fallbacks}; ` +
      `seqs 1..${room.lastSeq} ${gapFree ? 'contiguous' : 'NOT contiguous'}`);
    if (!gapFree) process.exitCode = 1;
  } finally {
    await server.stop();
    await database.drop();
  }
}

for (const kind of DBS) await run(kind);
