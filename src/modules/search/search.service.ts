import type { Context } from '../../context.ts';
import { db, dbKind } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { readableThreadsWhere } from '../threads/threads.access.ts';
import { highlightOf, words } from './search.highlight.ts';
import { ensureSearchConsistent } from './search.index.ts';

const MAX_RESULTS = 50;

export interface SearchHit {
  kind: 'THREAD_MESSAGE' | 'ROOM_MESSAGE';
  id: string;
  score: number;
  highlight: string;
}

/**
 * The distinct words of a query (letters and digits), so user input never reaches FTS syntax: a
 * repeated word adds nothing to the match but work to it.
 */
export function queryTerms(query: string): string[] {
  return [...new Set(query.normalize('NFKC').match(/[\p{L}\p{N}_]+/gu) ?? [])].slice(0, 20);
}

/** Threads of the org the viewer may read: all of them for the org's API keys. */
async function readableThreadIds(ctx: Context, orgId: string): Promise<string[]> {
  const v = ctx.viewer;
  if (v.kind !== 'user' && !(v.kind === 'apiKey' && v.orgId === orgId)) return [];
  const where = v.kind === 'user' ? { AND: [{ orgId }, readableThreadsWhere(v.userId)] } : { orgId };
  return (await db.thread.findMany({ where, select: { id: true } })).map((t) => t.id);
}

/** Rooms of the org the viewer is a member of (API keys are never room members). */
async function readableRoomIds(ctx: Context, orgId: string): Promise<string[]> {
  const v = ctx.viewer;
  if (v.kind !== 'user') return [];
  const rows = await db.roomMember.findMany({
    where: { userId: v.userId, room: { orgId, org: { members: { some: { userId: v.userId } } } } },
    select: { roomId: true },
  });
  return rows.map((r) => r.roomId);
}

/**
 * Thread and room messages the viewer may read in the org that hold every word of the query, best
 * first (bm25 on SQLite FTS5, ts_rank on PostgreSQL), each with its matching passage highlighted.
 * Failed or unfinished replies and deleted room messages are left out.
 */
export async function searchMessages(ctx: Context, orgId: string, query: string, first = 20): Promise<SearchHit[]> {
  const terms = queryTerms(query);
  if (!terms.length) throw badInput('The query must contain at least one word', 'query');
  const limit = Math.min(Math.max(first, 1), MAX_RESULTS);
  const [threadIds, roomIds] = await Promise.all([readableThreadIds(ctx, orgId), readableRoomIds(ctx, orgId)]);
  const search = dbKind === 'postgresql' ? searchPostgres : searchSqlite;
  const [threadHits, roomHits] = await Promise.all([
    threadIds.length ? search(THREAD, terms, threadIds, limit) : [],
    roomIds.length ? search(ROOM, terms, roomIds, limit) : [],
  ]);
  // Each index picks its best candidates by its own rank; the two lists are merged on one score, since
  // bm25/ts_rank values of different tables (and databases) are not on one scale.
  const hit = (kind: SearchHit['kind']) => (r: Row) => ({ kind, id: r.id, score: matchScore(r.content, terms), highlight: highlightOf(r.content, terms) });
  return [...threadHits.map(hit('THREAD_MESSAGE')), ...roomHits.map(hit('ROOM_MESSAGE'))]
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

/**
 * BM25's term-frequency part (k1 = 1.2, b = 0.75, average length 20 words) without IDF: more
 * occurrences in a shorter message score higher, the same way whichever table or database it came from.
 */
export function matchScore(content: string, terms: string[]): number {
  const tokens = words(content);
  const lengthNorm = 1.2 * (0.25 + (0.75 * tokens.length) / 20);
  let score = 0;
  for (const term of new Set(terms.flatMap(words))) {
    const tf = tokens.filter((t) => t === term).length;
    score += (tf * 2.2) / (tf + lengthNorm);
  }
  return Math.round(score * 1e6) / 1e6;
}

interface Source {
  table: string;
  fts: string;
  /** Column naming the container the viewer must be able to read. */
  scope: string;
  /** Extra condition on `m`. */
  where: string;
}
const THREAD: Source = { table: 'Message', fts: 'message_fts', scope: 'threadId', where: `m.status = 'COMPLETE'` };
const ROOM: Source = { table: 'RoomMessage', fts: 'room_message_fts', scope: 'roomId', where: `m."deletedAt" IS NULL` };

type Row = { id: string; content: string };

async function searchSqlite(s: Source, terms: string[], scopeIds: string[], limit: number): Promise<Row[]> {
  await ensureSearchConsistent();
  const match = terms.map((t) => `"${t}"`).join(' ');
  return db.$queryRawUnsafe<Row[]>(
    `SELECT m.id AS id, m.content AS content
       FROM search.${s.fts} JOIN main."${s.table}" m ON m.rowid = ${s.fts}.rowid
      WHERE ${s.fts} MATCH ? AND ${s.where} AND m."${s.scope}" IN (SELECT value FROM json_each(?))
      ORDER BY bm25(${s.fts}), m."createdAt" DESC LIMIT ?`,
    match,
    JSON.stringify(scopeIds),
    limit,
  );
}

async function searchPostgres(s: Source, terms: string[], scopeIds: string[], limit: number): Promise<Row[]> {
  const tsquery = terms.map((t) => `'${t}'`).join(' & ');
  return db.$queryRawUnsafe<Row[]>(
    `SELECT m.id AS id, m.content AS content
       FROM "${s.table}" m, to_tsquery('simple', $1) q
      WHERE to_tsvector('simple', m.content) @@ q AND ${s.where} AND m."${s.scope}" = ANY($2::text[])
      ORDER BY ts_rank(to_tsvector('simple', m.content), q) DESC, m."createdAt" DESC LIMIT $3`,
    tsquery,
    scopeIds,
    limit,
  );
}
