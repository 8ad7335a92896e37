import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { createGqlClient, type GqlClient } from './client.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

import { leftovers } from './leftovers.ts';

export interface TestServer extends GqlClient {
  app: App;
  config: Config;
  database: TestDatabase;
  port: number;
  url: string;
  wsUrl: string;
  origin: string;
  /** Statements run so far when started with `countQueries` (start a count with `countFrom()`). */
  queries: string[];
  /**
   * Waits until the server is quiet (work started by earlier requests, such as webhook enqueueing after a
   * publish, has run), then empties `queries`, so that what follows counts one request's statements only.
   */
  countFrom(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  overrides?: DeepPartial<ConfigInput>;
  /** Share a database with another server (two instances); else a fresh one is made and dropped. */
  database?: TestDatabase;
  countQueries?: boolean;
  /** A logger of the test's own (to read what the server logs). */
  logger?: import('../../src/logger.ts').Logger;
  /** The server's clock (trust decay), for tests that move time. */
  clock?: () => Date;
}

/** The config tests run with: cheap password hashing, silent logs, loopback only. */
export function testConfig(databaseUrl: string, overrides: DeepPartial<ConfigInput> = {}): Config {
  const base: DeepPartial<ConfigInput> = {
    env: 'test',
    // Files of the server's own (local uploads) go to a temp directory, never into the working tree.
    dataDir: join(tmpdir(), 'confab-test-data', String(process.pid)),
    server: { host: '127.0.0.1', port: 0, shutdownTimeoutMs: 3000 },
    database: { url: databaseUrl },
    auth: { passwordHashCost: 10 },
    // The suite makes many requests quickly: the general request limit is off unless a test turns it on.
    rateLimit: { perClient: 0, perOrg: 0 },
    log: { level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent' },
  };
  const merged = deepMerge(base, overrides);
  return loadConfig({ env: {}, file: false, overrides: merged });
}

function deepMerge(a: any, b: any): any {
  const out = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** A real server on a free port, on its own database. */
export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const ownsDatabase = !opts.database;
  const database = opts.database ?? (await createTestDatabase());
  // The webhook worker's polling and the payment worker's sweep (every 5 s: pending invoices, expired sessions)
  // would land in a statement count: counted servers run them rarely.
  const rarely = { webhooks: { pollIntervalMs: 3_600_000 }, lightning: { pollInterval: 3_600_000 } };
  const overrides = opts.countQueries ? deepMerge(rarely, opts.overrides ?? {}) : opts.overrides;
  const config = testConfig(database.url, overrides);
  const queries: string[] = [];
  const app = buildApp(config, { logger: opts.logger, clock: opts.clock, onQuery: opts.countQueries ? (sql) => queries.push(sql) : undefined });
  const { port } = await app.start(0, '127.0.0.1');
  const origin = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
    if (ownsDatabase) await database.drop();
  };
  leftovers.push(stop);
  return {
    ...createGqlClient(`${origin}/graphql`, `ws://127.0.0.1:${port}/graphql`),
    app,
    config,
    database,
    port,
    url: `${origin}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    origin,
    queries,
    async countFrom() {
      // Quiet for 300 ms in a row: on a loaded machine after-commit work can pause longer than one 100 ms tick.
      for (let quiet = 0, seen = queries.length, deadline = Date.now() + 5000; quiet < 3 && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 100));
        if (queries.length === seen) quiet++;
        else [quiet, seen] = [0, queries.length];
      }
      queries.length = 0;
    },
    stop,
  };
}

/**
 * The run with the fewest statements of `runs` runs of a counted read (`count` says how many it ran). A background
 * worker's poll that lands during a read adds statements of its own, while the read's own count never varies;
 * N+1 growth shows in every run, so it still shows in the fewest.
 */
export async function fewestStatements<T>(read: () => Promise<T>, count: (result: T) => number, runs = 3): Promise<T> {
  let fewest = await read();
  for (let i = 1; i < runs; i++) {
    const next = await read();
    if (count(next) < count(fewest)) fewest = next;
  }
  return fewest;
}

/**
 * Two instances on one database sharing the test Redis (TEST_REDIS_URL), started before the enclosing
 * suite's tests and stopped after them; read `a` and `b` inside the tests. Call it inside a `describe`
 * that is skipped without Redis.
 */
export function twoInstances(overrides: DeepPartial<ConfigInput> = {}): { a: TestServer; b: TestServer } {
  const pair = {} as { a: TestServer; b: TestServer; database: TestDatabase };
  beforeAll(async () => {
    pair.database = await createTestDatabase();
    const withRedis = deepMerge(overrides, { redis: { url: process.env.TEST_REDIS_URL, ...overrides.redis } });
    pair.a = await startServer({ database: pair.database, overrides: withRedis });
    pair.b = await startServer({ database: pair.database, overrides: withRedis });
  });
  afterAll(async () => {
    await pair.b?.stop();
    await pair.a?.stop();
    await pair.database?.drop();
  });
  return pair;
}
