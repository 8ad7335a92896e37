/** Shared by the benchmarks (the leading `_` keeps `npm run bench` from running it). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../test/helpers/process.ts';

export { freePort };
export const root = fileURLToPath(new URL('..', import.meta.url));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A minimal GraphQL-over-HTTP call against a server started by a benchmark; throws on errors. */
export function graphqlAt(origin: string) {
  return async function gql<T = any>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const res = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
}

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** The servers' secret (production mode refuses the default one); in-process servers over the same data use it too. */
export const BENCH_SECRET = 'bench-secret-'.padEnd(48, 'x');

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A fresh database for one run: a SQLite file in a temp folder, or a new PostgreSQL database (dropped after). */
export async function benchDatabase(kind: 'sqlite' | 'postgresql'): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'confab-bench-'));
    return { url: `file:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `confab_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = Object.assign(new URL(POSTGRES_URL), { pathname: `/${name}` }).toString();
  return {
    url,
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      c.on('error', () => undefined);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}

/** A process's CPU time so far (user + system), in ms, from /proc (clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/** The node binary startBenchServer runs (BENCH_SERVER_NODE, else the benchmark's own). */
export const serverNode = process.env.BENCH_SERVER_NODE || process.execPath;
export const serverNodeVersion = () => (serverNode === process.execPath ? process.version : execFileSync(serverNode, ['--version'], { encoding: 'utf8' }).trim());

export interface BenchServer {
  child: ChildProcess;
  origin: string;
  wsUrl: string;
  gql: ReturnType<typeof graphqlAt>;
  /** The server's CPU time so far (user + system), in ms. */
  cpuMs(): number;
  rssKb(): number;
  /**
   * The server's V8 heap in use after a full GC, in KB, read through the inspector (startBenchServer's
   * `inspect` option; no server code involved). Undefined without it.
   */
  heapAfterGcKb(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/**
 * `confab serve` as a child process on a free port, as users run it: the compiled bundle (dist/confab.js, what
 * `npm start` runs) when built, else tsx. Cheap password hashing (benchmarks register users), production mode.
 * BENCH_SERVER_NODE_ARGS passes flags to its node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`); BENCH_SERVER_NODE runs it
 * with another node binary than the benchmark's (e.g. Node 22's, to compare with PostGraphile on the same Node).
 */
export async function startBenchServer(databaseUrl: string, env: Record<string, string> = {}, opts: { inspect?: boolean } = {}): Promise<BenchServer> {
  const port = await freePort();
  const inspectPort = opts.inspect ? await freePort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'confab-bench-cfg-'));
  const config = join(dir, 'confab.toml');
  // Benchmarks measure throughput, not the general rate limit (which would refuse the seeding's requests), nor the
  // WebSocket caps (thousands of subscribers come from one address, many as one user).
  writeFileSync(
    config,
    `[auth]\npassword_hash_cost = 10\n\n[rate_limit]\nper_client = 0\nper_org = 0\n\n[server]\nws_max_sockets_per_address = 1000000\nws_max_sockets_per_client = 1000000\n`,
  );
  const nodeArgs = [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [])];
  const entry = existsSync(join(root, 'dist', 'confab.js')) && process.env.BENCH_TSX !== '1' ? ['dist/confab.js'] : ['--import', 'tsx', 'src/index.ts'];
  const child = spawn(serverNode, [...nodeArgs, ...entry, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: root,
    // Production mode, as deployed (graphql-js also skips its development-only checks then).
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', CONFAB_CONFIG: config, REDIS_URL: '', NODE_ENV: 'production', CONFAB_SECRET_KEY: BENCH_SECRET, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // A benchmark that fails midway must not leave its server running (holding the terminal's output open).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const origin = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 90_000; ; await sleep(100)) {
    if (child.exitCode !== null) throw new Error('server exited');
    if (await fetch(`${origin}/ready`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('server not ready');
  }
  return {
    child,
    origin,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    gql: graphqlAt(origin),
    cpuMs: () => processCpuMs(child.pid!),
    rssKb: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]),
    heapAfterGcKb: () => (inspectPort ? heapAfterGc(inspectPort) : Promise.resolve(undefined)),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Through the inspector protocol: a full GC, then `process.memoryUsage().heapUsed`, in KB. */
async function heapAfterGc(inspectPort: number): Promise<number> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let next = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve) => {
      const id = ++next;
      const onMessage = (data: unknown) => {
        const m = JSON.parse(String(data)) as { id?: number; result?: unknown };
        if (m.id !== id) return;
        ws.off('message', onMessage);
        resolve(m.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    for (let i = 0; i < 3; i++) await call('HeapProfiler.collectGarbage');
    const r = await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
    return r.result.value / 1024;
  } finally {
    ws.close();
  }
}

let unique = 0;
const tag = () => `${Date.now().toString(36)}${(unique++).toString(36)}`;

/** Registers a user; returns its id, email and token. */
export async function benchUser(gql: BenchServer['gql'], name = 'Bench'): Promise<BenchUser> {
  const email = `bench-${tag()}@example.com`;
  const { register } = await gql(`mutation BenchLibRegister($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }`, {
    input: { email, password: 'bench password 123', name },
  });
  return { id: register.user.id, email, token: register.accessToken };
}
export interface BenchUser { id: string; email: string; token: string }

/** An org owned by `owner`, with `members` (already registered) invited and accepted. */
export async function benchOrg(gql: BenchServer['gql'], owner: BenchUser, members: BenchUser[] = []): Promise<string> {
  const { createOrg } = await gql(`mutation BenchLibOrg($input: CreateOrgInput!) { createOrg(input: $input) { id } }`, { input: { name: 'Bench', slug: `bench-${tag()}` } }, owner.token);
  for (const m of members) {
    const { inviteMember } = await gql(`mutation BenchLibInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`, { input: { orgId: createOrg.id, email: m.email, role: 'MEMBER' } }, owner.token);
    await gql(`mutation BenchLibAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { id } }`, { input: { token: inviteMember.token } }, m.token);
  }
  return createOrg.id;
}
