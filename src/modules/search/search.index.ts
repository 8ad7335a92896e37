import { db, dbKind } from '../../db.ts';

/**
 * Full-text indexes live outside Prisma's migrations (Prisma cannot describe them, and a migration
 * diff must never try to drop them): they are made, idempotently, when the app starts.
 *
 * SQLite: an FTS5 table with external content (the Message table, by rowid), kept in step by
 * triggers. A migration that rebuilds the Message table drops its triggers and changes its rowids,
 * so whenever the triggers are missing the index is created again and rebuilt from the table.
 * PostgreSQL: a GIN expression index on to_tsvector('simple', content), which queries use as is.
 */
export async function ensureSearchIndexes(): Promise<void> {
  if (dbKind === 'postgresql') {
    await db.$executeRawUnsafe(`CREATE INDEX IF NOT EXISTS "Message_content_fts" ON "Message" USING gin (to_tsvector('simple', "content"))`);
    return;
  }
  const triggers = await db.$queryRawUnsafe<{ n: number | bigint }[]>(
    `SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name IN ('message_fts_ai', 'message_fts_ad', 'message_fts_au')`,
  );
  if (Number(triggers[0]?.n) === 3) return;
  await db.$executeRawUnsafe(`DROP TABLE IF EXISTS message_fts`);
  await db.$executeRawUnsafe(
    `CREATE VIRTUAL TABLE message_fts USING fts5(content, content='Message', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`,
  );
  await db.$executeRawUnsafe(`CREATE TRIGGER IF NOT EXISTS message_fts_ai AFTER INSERT ON "Message" BEGIN
    INSERT INTO message_fts(rowid, content) VALUES (new.rowid, new.content); END`);
  await db.$executeRawUnsafe(`CREATE TRIGGER IF NOT EXISTS message_fts_ad AFTER DELETE ON "Message" BEGIN
    INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.rowid, old.content); END`);
  await db.$executeRawUnsafe(`CREATE TRIGGER IF NOT EXISTS message_fts_au AFTER UPDATE OF content ON "Message" BEGIN
    INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO message_fts(rowid, content) VALUES (new.rowid, new.content); END`);
  await db.$executeRawUnsafe(`INSERT INTO message_fts(message_fts) VALUES ('rebuild')`);
}
