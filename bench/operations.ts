// Operations overhead: GraphQL requests per second with metrics off, metrics on, and metrics plus the
// general request limit (in memory, and in Redis when TEST_REDIS_URL is set); and how long a scrape of
// /metrics takes. The machine is shared, so compare the rows of one run, not runs with each other.
import { randomUUID } from 'node:crypto';
import { registerUser } from '../test/helpers/fixtures.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';

const ME = `query BenchOpsMe { me { email } }`;
const TOTAL = 2000;
const CONCURRENCY = 10;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function run(server: TestServer, token: string) {
  const times: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        next++;
        const t = performance.now();
        const r = await server.gql(ME, {}, { token });
        if (r.errors) throw new Error(JSON.stringify(r.errors));
        times.push(performance.now() - t);
      }
    }),
  );
  return { rps: TOTAL / ((performance.now() - t0) / 1000), p50: pct(times, 50), p95: pct(times, 95) };
}

const base = await startServer();
const variants: [string, Record<string, unknown>][] = [
  ['metrics off, no request limit', { metrics: { enabled: false } }],
  ['metrics on, no request limit', {}],
  ['metrics on + request limit (memory)', { rateLimit: { perClient: 1_000_000, perOrg: 1_000_000, windowSec: 60 } }],
];
if (process.env.TEST_REDIS_URL) {
  variants.push([
    'metrics on + request limit (Redis)',
    { rateLimit: { perClient: 1_000_000, perOrg: 1_000_000, windowSec: 60 }, redis: { url: process.env.TEST_REDIS_URL, keyPrefix: `confab-bench-${randomUUID()}:` } },
  ]);
}
try {
  const user = await registerUser(base);
  const servers: TestServer[] = [];
  for (const [, overrides] of variants) servers.push(await startServer({ database: base.database, overrides }));
  for (const s of servers) await run(s, user.token); // warm-up
  for (const [i, [name]] of variants.entries()) {
    const r = await run(servers[i], user.token);
    console.log(`${name.padEnd(38)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${r.p50.toFixed(2)} ms   p95 ${r.p95.toFixed(2)} ms  (${TOTAL} × { me }, ${CONCURRENCY} at a time)`);
  }
  const scrapes: number[] = [];
  let size = 0;
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    size = (await (await fetch(`${servers[1].origin}/metrics`)).text()).length;
    scrapes.push(performance.now() - t);
  }
  console.log(`GET /metrics: p50 ${pct(scrapes, 50).toFixed(2)} ms, p95 ${pct(scrapes, 95).toFixed(2)} ms, ${(size / 1024).toFixed(1)} KiB`);
  for (const s of servers) await s.stop();
} finally {
  await base.stop();
}
