import type { Context } from '../../context.ts';
import { db, dbKind } from '../../db.ts';
import { badInput } from '../../errors.ts';
import { readableThreadsWhere } from '../threads/threads.access.ts';
import { ensureSearchConsistent } from './search.index.ts';

export const HIGHLIGHT = { start: '<mark>', end: '</mark>' } as const;
const MAX_RESULTS = 50;

export interface SearchHit {
  kind: 'THREAD_MESSAGE';
  id: string;
  score: number;
  highlight: string;
}

/** The words of a query (letters and digits), so user input never reaches FTS syntax. */
export function queryTerms(query: string): string[] {
  return (query.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 20);
}

/** Threads of the org the viewer may read: all of them for the org's API keys. */
async function readableThreadIds(ctx: Context, orgId: string): Promise<string[]> {
  const v = ctx.viewer;
  if (v.kind !== 'user' && !(v.kind === 'apiKey' && v.orgId === orgId)) return [];
  const where = v.kind === 'user' ? { AND: [{ orgId }, readableThreadsWhere(v.userId)] } : { orgId };
  return (await db.thread.findMany({ where, select: { id: true } })).map((t) => t.id);
}

/**
 * Messages the viewer may read in the org that hold every word of the query, best first (bm25 on
 * SQLite FTS5, ts_rank on PostgreSQL), each with the matching passage highlighted by <mark>.
 */
export async function searchMessages(ctx: Context, orgId: string, query: string, first = 20): Promise<SearchHit[]> {
  const terms = queryTerms(query);
  if (!terms.length) throw badInput('The query must contain at least one word', 'query');
  const limit = Math.min(Math.max(first, 1), MAX_RESULTS);
  const threadIds = await readableThreadIds(ctx, orgId);
  if (!threadIds.length) return [];
  const rows = dbKind === 'postgresql' ? await searchPostgres(terms, threadIds, limit) : await searchSqlite(terms, threadIds, limit);
  return rows.map((r) => ({ kind: 'THREAD_MESSAGE', id: r.id, score: Number(r.score), highlight: r.highlight }));
}

type Row = { id: string; score: number; highlight: string };

async function searchSqlite(terms: string[], threadIds: string[], limit: number): Promise<Row[]> {
  await ensureSearchConsistent();
  const match = terms.map((t) => `"${t}"`).join(' ');
  return db.$queryRawUnsafe<Row[]>(
    `SELECT m.id AS id, -bm25(message_fts) AS score,
            snippet(message_fts, 0, '${HIGHLIGHT.start}', '${HIGHLIGHT.end}', '…', 16) AS highlight
       FROM search.message_fts JOIN main."Message" m ON m.rowid = message_fts.rowid
      WHERE message_fts MATCH ? AND m.status = 'COMPLETE' AND m.threadId IN (SELECT value FROM json_each(?))
      ORDER BY bm25(message_fts), m.createdAt DESC LIMIT ?`,
    match,
    JSON.stringify(threadIds),
    limit,
  );
}

async function searchPostgres(terms: string[], threadIds: string[], limit: number): Promise<Row[]> {
  const tsquery = terms.map((t) => `'${t.replace(/'/g, "''")}'`).join(' & ');
  return db.$queryRawUnsafe<Row[]>(
    `SELECT m.id AS id, ts_rank(to_tsvector('simple', m.content), q) AS score,
            ts_headline('simple', m.content, q, 'StartSel=${HIGHLIGHT.start}, StopSel=${HIGHLIGHT.end}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=…') AS highlight
       FROM "Message" m, to_tsquery('simple', $1) q
      WHERE to_tsvector('simple', m.content) @@ q AND m.status = 'COMPLETE' AND m."threadId" = ANY($2::text[])
      ORDER BY score DESC, m."createdAt" DESC LIMIT $3`,
    tsquery,
    threadIds,
    limit,
  );
}
