import { db, dbKind, sqlitePath, type Db } from '../../db.ts';
import type { Config } from '../../config.ts';

/**
 * Full-text indexes live outside Prisma's migrations (Prisma cannot describe them, and a migration
 * diff must never try to drop them): they are made, idempotently, when the app starts.
 *
 * PostgreSQL: a GIN expression index on to_tsvector('simple', content), which queries use as is.
 *
 * SQLite: an FTS5 table in a database file of its own (`<db>.fts`), attached to the connection as
 * `search`, kept in step with Message (by rowid) by TEMP triggers of this connection. It cannot live
 * in the main file: with a virtual table there, Prisma's schema engine fails to migrate while
 * another instance has the file open. For the same reason nothing here reads the main file at
 * start (a read by this instance makes a second instance's start-up migration time out): whether
 * the index matches Message is checked on the first search instead (see ensureSearchConsistent).
 */
export async function ensureSearchIndexes(config: Config): Promise<void> {
  if (dbKind === 'postgresql') {
    await db.$executeRawUnsafe(`CREATE INDEX IF NOT EXISTS "Message_content_fts" ON "Message" USING gin (to_tsvector('simple', "content"))`);
    return;
  }
  await db.$executeRawUnsafe(`ATTACH DATABASE ? AS search`, `${sqlitePath(config.database.url)}.fts`);
  await db.$executeRawUnsafe(`CREATE VIRTUAL TABLE IF NOT EXISTS search.message_fts USING fts5(content, tokenize='unicode61 remove_diacritics 2')`);
  await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS message_fts_ai AFTER INSERT ON main."Message" BEGIN
    INSERT INTO search.message_fts(rowid, content) VALUES (new.rowid, new.content); END`);
  await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS message_fts_ad AFTER DELETE ON main."Message" BEGIN
    DELETE FROM search.message_fts WHERE rowid = old.rowid; END`);
  await db.$executeRawUnsafe(`CREATE TEMP TRIGGER IF NOT EXISTS message_fts_au AFTER UPDATE OF content ON main."Message" BEGIN
    UPDATE search.message_fts SET content = new.content WHERE rowid = new.rowid; END`);
}

const checked = new WeakSet<Db>();

/**
 * Once per connection, before the first SQLite search: when the index's row count disagrees with
 * Message (first start on an existing database, a migration that rebuilt the table, writes by a
 * process without the triggers), it is rebuilt from Message.
 */
export async function ensureSearchConsistent(): Promise<void> {
  if (dbKind !== 'sqlite' || checked.has(db)) return;
  const [counts] = await db.$queryRawUnsafe<{ indexed: number | bigint; stored: number | bigint }[]>(
    `SELECT (SELECT count(*) FROM search.message_fts) AS indexed, (SELECT count(*) FROM main."Message") AS stored`,
  );
  if (Number(counts.indexed) !== Number(counts.stored)) {
    await db.$transaction([
      db.$executeRawUnsafe(`DELETE FROM search.message_fts`),
      db.$executeRawUnsafe(`INSERT INTO search.message_fts(rowid, content) SELECT rowid, content FROM main."Message"`),
    ]);
  }
  checked.add(db);
}
