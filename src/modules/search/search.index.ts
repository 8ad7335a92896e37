import { db, dbKind, sqlitePath, type Db } from '../../db/client.ts';
import type { Config } from '../../config.ts';

/** The searchable tables: thread messages and room messages, each by its `content`. */
export const SEARCHED = [
  { table: 'Message', fts: 'message_fts' },
  { table: 'RoomMessage', fts: 'room_message_fts' },
] as const;

/**
 * Full-text indexes live outside Prisma's migrations (Prisma cannot describe them, and a migration
 * diff must never try to drop them): they are made, idempotently, when the app starts.
 *
 * PostgreSQL: GIN expression indexes on to_tsvector('simple', content), which queries use as is.
 *
 * SQLite: FTS5 tables in a database file of their own (`<db>.fts`), attached to the connection as
 * `search`, kept in step with their tables (by rowid) by TEMP triggers of this connection. They
 * cannot live in the main file: with a virtual table there, Prisma's schema engine fails to migrate
 * while another instance has the file open. For the same reason nothing here reads the main file at
 * start (a read by this instance makes a second instance's start-up migration time out): whether an
 * index matches its table is checked on the first search instead (see ensureSearchConsistent).
 */
export async function ensureSearchIndexes(config: Config): Promise<void> {
  if (dbKind === 'postgresql') {
    for (const { table } of SEARCHED) {
      await db.$executeRawUnsafe(`CREATE INDEX IF NOT EXISTS "${table}_content_fts" ON "${table}" USING gin (to_tsvector('simple', "content"))`);
    }
    return;
  }
  await db.$executeRawUnsafe(`ATTACH DATABASE ? AS search`, `${sqlitePath(config.database.url)}.fts`);
  // Journal settings are per attached file: like main (src/db/client.ts), WAL without an fsync at every commit. With the
  // default (a rollback journal, synchronous FULL) every write of a message paid for the index file's journal
  // and fsyncs, ~20 ms a commit on this machine, and SQLite's one writer made that the ceiling for sends. (With
  // main in WAL a commit spanning both files was never atomic across them; the index is checked on first use.)
  await db.$queryRawUnsafe(`PRAGMA search.journal_mode = WAL`);
  await db.$executeRawUnsafe(`PRAGMA search.synchronous = NORMAL`);
  for (const { table, fts } of SEARCHED) {
    await db.$executeRawUnsafe(`CREATE VIRTUAL TABLE IF NOT EXISTS search.${fts} USING fts5(content, tokenize='unicode61 remove_diacritics 2')`);
    await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS ${fts}_ai AFTER INSERT ON main."${table}" BEGIN
      INSERT INTO search.${fts}(rowid, content) VALUES (new.rowid, new.content); END`);
    await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS ${fts}_ad AFTER DELETE ON main."${table}" BEGIN
      DELETE FROM search.${fts} WHERE rowid = old.rowid; END`);
    await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS ${fts}_au AFTER UPDATE OF content ON main."${table}" BEGIN
      UPDATE search.${fts} SET content = new.content WHERE rowid = new.rowid; END`);
  }
}

const checked = new WeakSet<Db>();

/**
 * Once per connection, before the first SQLite search: an index whose row count disagrees with its
 * table (first start on an existing database, a migration that rebuilt the table, writes by a
 * process without the triggers) is rebuilt from the table.
 */
export async function ensureSearchConsistent(): Promise<void> {
  if (dbKind !== 'sqlite' || checked.has(db)) return;
  for (const { table, fts } of SEARCHED) {
    const [counts] = await db.$queryRawUnsafe<{ indexed: number | bigint; stored: number | bigint }[]>(
      `SELECT (SELECT count(*) FROM search.${fts}) AS indexed, (SELECT count(*) FROM main."${table}") AS stored`,
    );
    if (Number(counts.indexed) === Number(counts.stored)) continue;
    await db.$transaction([
      db.$executeRawUnsafe(`DELETE FROM search.${fts}`),
      db.$executeRawUnsafe(`INSERT INTO search.${fts}(rowid, content) SELECT rowid, content FROM main."${table}"`),
    ]);
  }
  checked.add(db);
}
