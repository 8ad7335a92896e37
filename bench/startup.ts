/**
 * Start-up benchmark: `npm run bench startup`.
 *
 * Time from spawning `confab serve` to the first 200 from /ready, on SQLite with an existing database (migrations
 * already applied: the usual restart), for the compiled bundle (`npm start`: node dist/confab.js) and for tsx
 * (`npm run dev`, the tests). Median and range of BENCH_RUNS runs each (default 7). Builds dist/ first if missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './_lib.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'confab-startup-'));
const env = { ...process.env, DATABASE_URL: `file:${join(dir, 'bench.db')}`, LOG_LEVEL: 'warn', CONFAB_CONFIG: '', REDIS_URL: '', NODE_ENV: 'production', CONFAB_SECRET_KEY: 's'.repeat(40) };

if (!existsSync(join(root, 'dist', 'confab.js'))) spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });

/** Milliseconds from spawn to /ready 200. */
async function once(args: string[]): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...args, 'serve', '--port', String(port), '--host', '127.0.0.1'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      if (await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false)) return performance.now() - started;
      if (performance.now() - started > 60_000) throw new Error('not ready in 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  }
}

const variants: [string, string[]][] = [
  ['compiled (npm start: node dist/confab.js)', ['dist/confab.js']],
  ['tsx (npm run dev: node --import tsx src/index.ts)', ['--import', 'tsx', 'src/index.ts']],
];
try {
  await once(variants[0][1]); // creates the database and applies the migrations: every timed run is a restart
  for (const [name, args] of variants) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) times.push(await once(args));
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`${name}: median ${(median / 1000).toFixed(2)} s to /ready (min ${(times[0] / 1000).toFixed(2)}, max ${(times.at(-1)! / 1000).toFixed(2)}, ${RUNS} runs)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
