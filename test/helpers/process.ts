import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leftovers } from './leftovers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A port that was free a moment ago (bind 0, read, release). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  origin: string;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** The server bundle `npm start` runs (scripts/build.mjs; `npm test` builds it first). */
const compiledEntry = join(root, 'dist', 'confab.js');

/**
 * Runs `confab serve` as a real process (the CLI path users run), waits until /ready answers 200: from the
 * TypeScript sources through tsx, or with `compiled` the bundle `npm start` runs.
 * Stopped by pid after the test file if the test did not stop it.
 */
export async function spawnServer(env: Record<string, string>, opts: { compiled?: boolean } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const entry = opts.compiled ? [compiledEntry] : ['--import', 'tsx', 'src/index.ts'];
  const child = spawn(process.execPath, [...entry, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', CONFAB_CONFIG: '', CONFAB_RATE_LIMIT_PER_CLIENT: '0', CONFAB_RATE_LIMIT_PER_ORG: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  leftovers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const origin = `http://127.0.0.1:${port}`;
  // Generous: on a loaded machine tsx alone can take half a minute to load the sources.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${out}`);
    const ok = await fetch(`${origin}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server not ready in 90 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, origin, output: () => out, exited };
}
