// Migrations without Prisma's native schema engine (these machines cannot download it): we drive
// @prisma/schema-engine-wasm through driver adapters. Folders keep Prisma's standard layout and the engine keeps
// the standard `_prisma_migrations` table, so the real CLI's `prisma migrate deploy` still works on them.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import Sqlite from 'better-sqlite3';
import { projectRoot } from '../paths.ts';

export type DbKind = 'sqlite' | 'postgresql';

const root = projectRoot;
const filters = { externalTables: [], externalEnums: [] };
const folderOf = (kind: DbKind) => (kind === 'sqlite' ? 'sqlite' : 'postgres');

/** Resolved from this file, not the cwd, so migrations are found the same way from any directory (tests, CI). */
export function migrationsDir(kind: DbKind): string {
  return join(root, 'prisma', folderOf(kind), 'migrations');
}

// The glue module keeps a single module-level reference to the WASM exports, so a process gets exactly one
// instance: compiled and instantiated once, every call then creates its own (cheap) engine on top of it.
let wasmReady: Promise<void> | undefined;
function loadWasm(): Promise<void> {
  return (wasmReady ??= (async () => {
    // The package entry imports the .wasm as an ES module, which Node cannot do; load it next to the glue.
    const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const module = await WebAssembly.compile(readFileSync(gluePath.replace(/\.js$/, '.wasm')));
    // The engine arms a 10 s timer (its PostgreSQL advisory-lock timeout) and never clears it, which would keep
    // the process alive 10 s after every call: unref the engine's timers.
    const imports: Record<string, unknown> = { ...glue };
    for (const key of Object.keys(imports).filter((k) => k.startsWith('__wbg_setTimeout_'))) {
      imports[key] = (fn: () => void, ms: number) => setTimeout(fn, ms >>> 0).unref();
    }
    const instance = await WebAssembly.instantiate(module, {
      './schema_engine_bg.js': imports as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
  })());
}

function kindOf(url: string): DbKind {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(?:ql)?:\/\//.test(url)) return 'postgresql';
  throw new Error(`Unsupported database url "${url.split(':')[0]}:…" (expected file:<path> or postgresql://…)`);
}

function readMigrations(kind: DbKind): MigrationList {
  const baseDir = migrationsDir(kind);
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : null);
  const dirs = existsSync(baseDir) ? readdirSync(baseDir, { withFileTypes: true }) : [];
  const names = dirs.filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: read(join(baseDir, 'migration_lock.toml')) },
    shadowDbInitScript: '',
    migrationDirectories: names.map((path) => {
      const sql = read(join(baseDir, path, 'migration.sql'));
      const content = sql === null ? { tag: 'error' as const, value: 'missing' } : { tag: 'ok' as const, value: sql };
      return { path, migrationFile: { path: 'migration.sql', content } };
    }),
  };
}

const withDatabase = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).toString();
const dropDatabase = (admin: pg.Client, db: string) => // WITH (FORCE) needs PostgreSQL 13+
  admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => admin.query(`DROP DATABASE IF EXISTS "${db}"`));

/** Wraps the adapter factory: we dispose every connection the engine opened (freeing the engine does not), and
 *  work around what the stock adapters get wrong for the schema engine (comments inside). */
function trackedFactory(url: string) {
  const opened: SqlDriverAdapter[] = [];
  const raw: SqlMigrationAwareDriverAdapterFactory =
    kindOf(url) === 'sqlite' ? new PrismaBetterSqlite3({ url }) : new PrismaPg({ connectionString: url });
  const track = async (connecting: Promise<SqlDriverAdapter>, afterDispose?: () => Promise<unknown>) => {
    const adapter = await connecting;
    const dispose = adapter.dispose.bind(adapter);
    let disposed: Promise<void> | undefined;
    adapter.dispose = () => (disposed ??= dispose().finally(afterDispose));
    opened.push(adapter);
    if (adapter.provider === 'sqlite') {
      // The engine replays each migration.sql on the shadow DB with one parameterless executeRaw, and
      // better-sqlite3 refuses "more than one statement": run such scripts through executeScript instead.
      const executeRaw = adapter.executeRaw.bind(adapter);
      adapter.executeRaw = (q) => executeRaw(q).catch(async (e: unknown) => {
        if (q.args.length > 0 || !/more than one statement/.test(String((e as Error)?.message))) throw e;
        return adapter.executeScript(q.sql).then(() => 0);
      });
    } else {
      // adapter-pg's executeScript splits the script on every ";", which breaks a function body ($$ … ; … $$,
      // the audit log's trigger). PostgreSQL's simple query protocol runs a whole script itself: send it as one.
      const pgClient = (adapter as unknown as { client: { query(sql: string): Promise<unknown> } }).client;
      adapter.executeScript = async (script) => {
        try {
          await pgClient.query(script);
        } catch (error) {
          (adapter as unknown as { onError(e: unknown): never }).onError(error);
        }
      };
      // adapter-pg rejects the catalog type "char" (OID 18) that the engine's schema describer reads, so
      // devDiagnostic fails with "Column type 'char' could not be deserialized". pg already returns it as a
      // string: report it as text (OID 25). performIO is adapter-pg's internal query method.
      const io = adapter as unknown as { performIO(q: unknown): Promise<{ fields: { dataTypeID: number }[] }> };
      const performIO = io.performIO.bind(adapter);
      io.performIO = (q) => performIO(q).then((res) => {
        for (const f of res.fields) if (f.dataTypeID === 18) f.dataTypeID = 25;
        return res;
      });
    }
    return adapter;
  };
  // adapter-pg's own connectToShadowDb connects to the *main* database (its connectionString overrides the
  // shadow database name) and leaks its admin pool, so we create and drop the shadow database ourselves.
  const pgShadow = async () => {
    const shadow = `prisma_migrate_shadow_db_${randomBytes(8).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${shadow}"`).catch((e) => admin.end().finally(() => Promise.reject(e)));
    const cleanup = () => dropDatabase(admin, shadow).finally(() => admin.end());
    return track(new PrismaPg({ connectionString: withDatabase(url, shadow) }).connect(), cleanup);
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: raw.provider, adapterName: raw.adapterName, connect: () => track(raw.connect()),
    connectToShadowDb: () => (raw.provider === 'sqlite' ? track(raw.connectToShadowDb()) : pgShadow()),
  };
  const disposeAll = () => Promise.allSettled(opened.map((a) => a.dispose()));
  return { factory: bindMigrationAwareSqlAdapterFactory(factory), disposeAll };
}

/** One engine per call; its errors reach us as rejections, so its log output is dropped. */
async function withEngine<T>(url: string, schema: [string, string], fn: (e: SchemaEngine) => Promise<T>): Promise<T> {
  await loadWasm();
  const { factory, disposeAll } = trackedFactory(url);
  let engine: SchemaEngine | undefined;
  try {
    engine = await glue.SchemaEngine.new({ datamodels: [schema] }, () => undefined, factory);
    return await fn(engine);
  } finally {
    engine?.free();
    await disposeAll();
  }
}

/**
 * Applies pending migrations through the WASM engine, because the native engine the CLI wants cannot be
 * downloaded here. It keeps the same `_prisma_migrations` bookkeeping as `prisma migrate deploy`, so it is
 * cheap to call on every start and a second call applies nothing. Concurrent callers on one PostgreSQL database
 * are serialized by the engine's own `pg_advisory_lock(72707369)`: the others wait, then apply nothing; one that
 * waits over 10 s fails ("…reached but timed out"). SQLite uses the engine's exclusive locking mode. We add no
 * locking of our own.
 */
export async function applyMigrations(url: string, opts: { log?: (msg: string) => void } = {}): Promise<string[]> {
  const kind = kindOf(url);
  if (kind === 'sqlite') mkdirSync(dirname(url.slice('file:'.length)), { recursive: true });
  if (await allApplied(url, kind)) return [];
  // Applying needs only the provider, not the models: the composed schema files may be stale or absent.
  const datasource = `datasource db {\n  provider = "${kind}"\n}\n`;
  const applied = await withEngine(url, ['schema.prisma', datasource], async (engine) =>
    (await engine.applyMigrations({ migrationsList: readMigrations(kind), filters })).appliedMigrationNames);
  for (const name of applied) opts.log?.(`applied migration ${name}`);
  return applied;
}

/**
 * True when every local migration folder is recorded as finished (and none failed) in `_prisma_migrations`: the
 * usual case at start-up, answered by one read without the engine. On SQLite the engine takes the file in
 * exclusive locking mode, which fails while another instance on the same file is writing (a second instance in
 * tests, or a restart while the old process still drains); on PostgreSQL it saves the advisory lock round.
 * Anything unusual (no table yet, a failed or unknown row) goes to the engine, which reports it properly.
 */
async function allApplied(url: string, kind: DbKind): Promise<boolean> {
  const wanted = readMigrations(kind).migrationDirectories.map((d) => d.path);
  const sql = 'SELECT migration_name AS name, finished_at AS finished, rolled_back_at AS rolled FROM _prisma_migrations';
  type Row = { name: string; finished: unknown; rolled: unknown };
  let rows: Row[];
  try {
    if (kind === 'sqlite') {
      const file = url.slice('file:'.length);
      if (!existsSync(file)) return false;
      const db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
      try {
        rows = db.prepare(sql).all() as Row[];
      } finally {
        db.close();
      }
    } else {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        rows = (await client.query<Row>(sql)).rows;
      } finally {
        await client.end();
      }
    }
  } catch {
    return false; // no bookkeeping table yet, or the database is not reachable: the engine says which
  }
  if (rows.some((r) => r.finished === null && r.rolled === null)) return false; // a failed migration
  const done = new Set(rows.filter((r) => r.finished !== null && r.rolled === null).map((r) => r.name));
  return wanted.every((name) => done.has(name));
}

/** Applies the existing migrations to an empty database, then asks the engine for the SQL that reaches the models. */
async function diffOnEmptyDb(url: string, kind: DbKind): Promise<string | null> {
  const path = join(root, 'prisma', folderOf(kind), 'schema.prisma');
  const content = readFileSync(path, 'utf8');
  return withEngine(url, [path, content], async (engine) => {
    const migrationsList = readMigrations(kind);
    await engine.applyMigrations({ migrationsList, filters });
    // devDiagnostic fills the engine's cache (without it createMigration fails on SQLite with "shadow DB must be
    // provided through an external factory"), and catches a history that does not replay cleanly.
    const { action } = await engine.devDiagnostic({ migrationsList, filters });
    if (action.tag === 'reset') throw new Error(`The ${kind} migration history is inconsistent: ${action.reason}`);
    const { migrationScript } = await engine.createMigration({
      draft: false, migrationName: 'next', migrationsList, schema: { files: [{ path, content }] }, filters,
    });
    return migrationScript?.trim() ? migrationScript : null;
  });
}

async function withThrowawayPg<T>(serverUrl: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect().catch((e: Error) => {
    const where = serverUrl.replace(/\/\/[^@/]*@/, '//…@'); // no credentials in the message
    throw new Error(`createMigration needs PostgreSQL to generate the postgres migration, but ${where} cannot be ` +
      `reached (${e.message}). Start PostgreSQL, or pass postgresUrl / set DATABASE_URL_FOR_MIGRATIONS.`);
  });
  const db = `confab_migr_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE "${db}"`);
    return await fn(withDatabase(serverUrl, db));
  } finally {
    await dropDatabase(admin, db).finally(() => admin.end());
  }
}

/**
 * Generates the next migration for both databases at once, so SQLite and PostgreSQL never drift apart. Each is
 * diffed on a throwaway database (a temp SQLite file; `confab_migr_<random>` created and dropped on the PostgreSQL
 * server), so no developer database is needed or touched, and both get the same `<timestamp>_<name>` folder.
 * Nothing is written unless both diffs succeed. A database whose migration would be empty gets no folder and is
 * absent from the result (and reported through `log`).
 */
export async function createMigration(
  name: string,
  opts: { postgresUrl?: string; log?: (msg: string) => void } = {},
): Promise<{ sqlite?: string; postgres?: string }> {
  const slug = name.trim().replace(/\W+/g, '_').replace(/^_+|(?<!_)_+$/g, '');
  if (!slug) throw new Error(`Invalid migration name: ${JSON.stringify(name)}`);
  const compose = [join(root, 'scripts/prisma-generate.mjs'), '--write-only'];
  const gen = spawnSync(process.execPath, compose, { cwd: root, encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`prisma-generate.mjs --write-only failed: ${gen.stderr || gen.error}`);

  const serverUrl =
    opts.postgresUrl ?? process.env.DATABASE_URL_FOR_MIGRATIONS ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const postgresql = await withThrowawayPg(serverUrl, (url) => diffOnEmptyDb(url, 'postgresql'));
  const tmp = mkdtempSync(join(tmpdir(), 'confab-migr-'));
  const sqlite = await diffOnEmptyDb(`file:${join(tmp, 'migr.db')}`, 'sqlite')
    .finally(() => rmSync(tmp, { recursive: true, force: true }));

  // Folder order is migration order: never sort before an existing folder (e.g. two migrations in one second).
  const last = (['sqlite', 'postgresql'] as const)
    .flatMap((k) => readMigrations(k).migrationDirectories.map((d) => d.path.slice(0, 14)))
    .filter((p) => /^\d{14}$/.test(p)).sort().at(-1);
  const now = new Date().toISOString().replace(/\D/g, '').slice(0, 14); // UTC YYYYMMDDHHMMSS, as Prisma names them
  const folder = `${last && last >= now ? String(BigInt(last) + 1n) : now}_${slug}`;
  const result: { sqlite?: string; postgres?: string } = {};
  for (const [kind, sql] of [['sqlite', sqlite], ['postgresql', postgresql]] as const) {
    const base = migrationsDir(kind);
    if (sql === null) {
      opts.log?.(`${kind}: the models match the migrations, no migration written`);
      continue;
    }
    mkdirSync(join(base, folder), { recursive: true });
    writeFileSync(join(base, folder, 'migration.sql'), sql);
    const lock = join(base, 'migration_lock.toml');
    const header = '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)';
    if (!existsSync(lock)) writeFileSync(lock, `${header}\nprovider = "${kind}"\n`);
    result[kind === 'sqlite' ? 'sqlite' : 'postgres'] = join(base, folder);
    opts.log?.(`${kind}: wrote ${join(base, folder)}`);
  }
  return result;
}
