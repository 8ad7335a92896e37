import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { databaseKind } from '../config.ts';
import { PrismaClient as PgClient } from '../generated/postgres/client.ts';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts';

/**
 * Both generated clients are built from the same models, so their APIs are the same; the SQLite
 * client's type stands for both.
 */
export type Db = InstanceType<typeof SqliteClient>;
export type DatabaseKind = 'sqlite' | 'postgresql';
import { Prisma } from '../generated/sqlite/client.ts';
export { Prisma };

/** The process's database client, set by openDatabase(). Services import it from here. */
export let db: Db = new Proxy({} as Db, {
  get() {
    throw new Error('Database not opened: call openDatabase() first');
  },
});
export let dbKind: DatabaseKind = 'sqlite';

/** Resolves `file:` URLs relative to the working directory, creating the folder on first start. */
export function sqlitePath(url: string): string {
  const path = resolve(url.slice('file:'.length));
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

/**
 * How long a statement waits for another process's write lock on the same SQLite file (SQLite's busy
 * timeout) before it fails. As long as an interactive transaction may wait to start (TX_TIMING.maxWait and
 * the group commit's), because that is what the wait is: with two processes on one file sending to one
 * room, one process's back-to-back commits kept the other waiting past 5 s on a loaded CI machine
 * (SQLite polls the lock with sleeps of up to 100 ms, so a busy writer can starve it for a while).
 */
const SQLITE_BUSY_TIMEOUT_MS = 15_000;

/** How many distinct statements each connection keeps prepared (SQLite and PostgreSQL alike). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Prisma's better-sqlite3 adapter with two changes, made where it asks its client to `prepare` a statement.
 *
 * 1. **Prepared statements are kept** (the STATEMENT_CACHE_SIZE most recently used texts). The adapter prepares every
 *    statement anew (`client.prepare(sql).bind(args)`), and preparing was most of better-sqlite3's time in a profile
 *    of a simple read. A kept statement is handed out behind a small facade, because better-sqlite3 binds a
 *    statement's parameters once for its life: the facade passes each call's arguments to `run`/`all` instead.
 *    Statements run synchronously to the end (`run`, `all`), so one is never busy when the next call takes it.
 * 2. **Interactive transactions start with BEGIN IMMEDIATE** instead of a deferred BEGIN. A deferred transaction
 *    takes the write lock only at its first write; with two processes on one file, a transaction that has read and
 *    then writes after the other process committed is refused at once (SQLITE_BUSY_SNAPSHOT: waiting could not help,
 *    so the busy timeout never applies). That is what failed a two-process send in rooms.cluster ("Operation has
 *    timed out" after 1.5 s, far below the busy timeout). IMMEDIATE takes the write lock at the start, waiting up to
 *    the busy timeout. Each process already runs one transaction at a time (the adapter's mutex), and readers outside
 *    transactions never wait (WAL).
 */
class TunedSqlite extends PrismaBetterSqlite3 {
  override async connect() {
    const adapter = await super.connect();
    const client = (adapter as unknown as { client: { prepare(sql: string): SqliteStatement } }).client;
    const prepare = client.prepare.bind(client);
    const kept = new LRUCache<string, SqliteStatement>({ max: STATEMENT_CACHE_SIZE });
    const keptStatement = (sql: string) => {
      let stmt = kept.get(sql);
      if (!stmt) kept.set(sql, (stmt = prepare(sql === 'BEGIN' ? 'BEGIN IMMEDIATE' : sql)));
      return stmt;
    };
    (client as { prepare(sql: string): unknown }).prepare = (sql: string) => boundFacade(keptStatement(sql));
    // On the adapter's one connection, like every statement Prisma runs outside a transaction.
    directReads = async (query) => keptStatement(query.sql).raw(true).all(query.values) as unknown[][];
    return adapter;
  }
}

/** The part of a better-sqlite3 statement the adapter uses. */
interface SqliteStatement {
  readonly reader: boolean;
  columns(): unknown[];
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
  raw(on?: boolean): SqliteStatement;
}

/** A kept statement as the adapter uses a fresh one: `bind(args)`, then `run()` / `columns()` / `raw().all()`. */
function boundFacade(stmt: SqliteStatement) {
  let bound: unknown[] = [];
  const facade = {
    get reader() {
      return stmt.reader;
    },
    bind(args: unknown[]) {
      bound = args;
      return facade;
    },
    run: () => stmt.run(bound),
    columns: () => stmt.columns(),
    // `raw()` switches the statement to arrays for good; every caller of `raw` wants arrays, and `run` ignores it.
    raw: () => ({ all: () => stmt.raw(true).all(bound) }),
  };
  return facade;
}

/**
 * Names for PostgreSQL statements, so each pooled connection prepares a statement once and then only binds and
 * executes it (node-postgres keeps a connection's named statements). Only the first STATEMENT_CACHE_SIZE distinct
 * texts get a name, which bounds what every connection holds on the server (Prisma's `IN (…)` lists make a new
 * text per list length; the app's own statements are a few hundred); later texts run unnamed, as before.
 */
function statementNames(): (query: { sql: string }) => string {
  const names = new Map<string, string>();
  return ({ sql }) => {
    let name = names.get(sql);
    if (name === undefined && names.size < STATEMENT_CACHE_SIZE) names.set(sql, (name = `confab_${names.size}`));
    // An empty name is no name to node-postgres (an unnamed statement).
    return name ?? '';
  };
}

export interface OpenOptions {
  /** Emit every statement and its duration to this function (tests count queries with it; /metrics times them). */
  onQuery?: (sql: string, durationMs: number) => void;
}

/**
 * Opens the client for the URL and makes it the process's `db`. SQLite runs in WAL mode with a busy
 * timeout and foreign keys on, so readers never wait for the writer and constraint errors are real.
 */
export async function openDatabase(url: string, opts: OpenOptions = {}): Promise<Db> {
  const kind = databaseKind(url);
  const log = opts.onQuery ? [{ emit: 'event' as const, level: 'query' as const }] : [];
  let client: Db;
  if (kind === 'sqlite') {
    sqliteFile = sqlitePath(url);
    pgPool = undefined;
    const adapter = new TunedSqlite({ url: `file:${sqliteFile}`, timeout: SQLITE_BUSY_TIMEOUT_MS });
    client = new SqliteClient({ adapter, log });
    await client.$executeRawUnsafe('PRAGMA journal_mode = WAL');
    await client.$executeRawUnsafe('PRAGMA foreign_keys = ON');
    await client.$executeRawUnsafe('PRAGMA synchronous = NORMAL');
  } else {
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
    pgPool = pool;
    sqliteFile = undefined;
    const names = statementNames();
    const adapter = new PrismaPg(pool, { statementNameGenerator: names, disposeExternalPool: true });
    directReads = async (query) => {
      const result = await pool.query({ name: names({ sql: query.text }) || undefined, text: query.text, values: query.values, rowMode: 'array', types: directTypes });
      return result.rows as unknown[][];
    };
    client = new PgClient({ adapter, log }) as unknown as Db;
  }
  if (opts.onQuery) (client as any).$on('query', (e: { query: string; duration: number }) => opts.onQuery!(e.query, Number(e.duration) || 0));
  onDirectRead = opts.onQuery;
  db = client;
  dbKind = kind;
  return client;
}

let pgPool: pg.Pool | undefined;
let sqliteFile: string | undefined;

/** The connection pool of the open database, for /metrics: PostgreSQL's pg.Pool; SQLite has one connection and no queue. */
export function poolStats(): { total: number; idle?: number; waiting?: number } {
  if (pgPool) return { total: pgPool.totalCount, idle: pgPool.idleCount, waiting: pgPool.waitingCount };
  return { total: 1 };
}

/** SQLite only: the size of the write-ahead log (`<file>-wal`) in bytes, 0 when there is none; null on PostgreSQL. */
export function sqliteWalBytes(): number | null {
  if (!sqliteFile) return null;
  try {
    return statSync(`${sqliteFile}-wal`).size;
  } catch {
    return 0;
  }
}

let directReads: ((query: Prisma.Sql) => Promise<unknown[][]>) | undefined;
let onDirectRead: OpenOptions['onQuery'];

/**
 * node-postgres's parsers, except `timestamp` (without time zone, Prisma's DateTime), which it would read as local
 * time: kept as text, for the reader to take as UTC (as Prisma does).
 */
const TIMESTAMP_OID = 1114;
const directTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMP_OID ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/**
 * A read written in SQL (`Prisma.sql`), run on the driver itself and answered as arrays of column values in the
 * driver's own types: SQLite text, bigint (Prisma's safe integers) and null; PostgreSQL's parsed values, with
 * `timestamp` as text in UTC. Prisma's `$queryRaw` spends more time turning a large result into typed objects than
 * the database spends reading it (4.7 ms against 2.0 ms for the 400 rows of a nested read's messages), so hot reads
 * that convert the values themselves (src/modules/threads/threads.messages.ts) come here. Counted in onQuery like
 * Prisma's statements. Reads only: a write belongs to Prisma and its transactions.
 */
export async function readRows(query: Prisma.Sql): Promise<unknown[][]> {
  if (!directReads) throw new Error('Database not opened: call openDatabase() first');
  const started = performance.now();
  const rows = await directReads(query);
  onDirectRead?.(dbKind === 'postgresql' ? query.text : query.sql, performance.now() - started);
  return rows;
}

/** True when the database answers a trivial query. */
export async function pingDatabase(): Promise<boolean> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits for interactive transactions. Under load, Prisma's defaults (2 s to start, 5 s to finish)
 * fail healthy transactions: with 100 concurrent senders a debit was lost that way.
 */
export const TX_TIMING = { maxWait: 10_000, timeout: 20_000 } as const;

export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/**
 * An interactive transaction that behaves alike on both databases: SERIALIZABLE on PostgreSQL (SQLite
 * always is), retried a few times when PostgreSQL reports a serialization conflict (P2034 / 40001).
 * Use it where an invariant spans rows, such as "an org keeps at least one owner".
 */
export async function serializable<T>(fn: (tx: Tx) => Promise<T>, attempts = 10): Promise<T> {
  const timing = TX_TIMING;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(fn, dbKind === 'postgresql' ? { isolationLevel: 'Serializable', ...timing } : timing);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // A conflict found at COMMIT reaches us as the driver adapter's own error (kind
      // TransactionWriteConflict, from 40001 or 40P01), not as P2034.
      const kind = (err as { cause?: { kind?: string } }).cause?.kind;
      const retry =
        code === 'P2034' || kind === 'TransactionWriteConflict' || /40001|40P01|could not serialize|TransactionWriteConflict/.test(String((err as Error).message));
      if (!retry || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 20));
    }
  }
}
