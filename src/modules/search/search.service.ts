import type { Context } from '../../context.ts';
import { db, dbKind } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { readableThreadsWhere } from '../threads/threads.access.ts';
import { highlightOf, words } from './search.highlight.ts';
import { ensureSearchConsistent } from './search.index.ts';

/** Most hits on one page, whatever `first`/`last` asks for. */
export const MAX_PAGE = 50;
const DEFAULT_PAGE = 20;
/**
 * Candidates read from each index (thread messages, room messages) per search, by the index's own rank.
 * The same pool for every page of a query, so pages sort one fixed list and never overlap or skip; paging
 * reaches the best POOL of each kind.
 */
export const POOL = 200;

export interface SearchHit {
  kind: 'THREAD_MESSAGE' | 'ROOM_MESSAGE';
  id: string;
  score: number;
  highlight: string;
  /** Stable position in the ranking: the score and the id (ties broken by id). */
  cursor: string;
}

export interface SearchPage {
  hits: SearchHit[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

const encodeCursor = (score: number, id: string) => Buffer.from(`search:${score}:${id}`).toString('base64url');

function decodeCursor(cursor: string, arg: string): { score: number; id: string } {
  const [tag, score, id] = Buffer.from(cursor, 'base64url').toString().split(':');
  if (tag !== 'search' || !id || score === '' || !Number.isFinite(Number(score))) throw badInput(`${arg}: not a cursor of this search`, arg);
  return { score: Number(score), id };
}

/** Best first; equal scores by id, so the order (and every cursor's place in it) is total and repeatable. */
const byRank = (a: { score: number; id: string }, b: { score: number; id: string }) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function pageSize(n: number | null | undefined, arg: string): number | undefined {
  if (n == null) return undefined;
  if (!Number.isInteger(n) || n < 0) throw badInput(`${arg}: must be 0 or more`, arg);
  return Math.min(n, MAX_PAGE);
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
 * first, each with its matching passage highlighted; a page of them (Relay's first/after, last/before).
 * Each index picks its best POOL candidates by its own rank (bm25 on SQLite FTS5, ts_rank on PostgreSQL);
 * they are then ranked on one score (matchScore), since bm25/ts_rank values of different tables (and
 * databases) are not on one scale. Failed or unfinished replies and deleted room messages are left out.
 */
export async function searchMessages(ctx: Context, orgId: string, query: string, args: PageArgs = {}): Promise<SearchPage> {
  const terms = queryTerms(query);
  if (!terms.length) throw badInput('The query must contain at least one word', 'query');
  const first = pageSize(args.first, 'first');
  const last = pageSize(args.last, 'last');
  if (first !== undefined && last !== undefined) throw badInput('first and last cannot be used together', 'last');
  const after = args.after ? decodeCursor(args.after, 'after') : null;
  const before = args.before ? decodeCursor(args.before, 'before') : null;
  const [threadIds, roomIds] = await Promise.all([readableThreadIds(ctx, orgId), readableRoomIds(ctx, orgId)]);
  const search = dbKind === 'postgresql' ? searchPostgres : searchSqlite;
  const [threadRows, roomRows] = await Promise.all([
    threadIds.length ? search(THREAD, terms, threadIds, POOL) : [],
    roomIds.length ? search(ROOM, terms, roomIds, POOL) : [],
  ]);
  const ranked = [
    ...threadRows.map((r) => ({ kind: 'THREAD_MESSAGE' as const, ...r, score: matchScore(r.content, terms) })),
    ...roomRows.map((r) => ({ kind: 'ROOM_MESSAGE' as const, ...r, score: matchScore(r.content, terms) })),
  ].sort(byRank);
  // The window between the cursors (positions, so a cursor whose message is gone meanwhile still pages on).
  let from = after ? ranked.findIndex((h) => byRank(h, after) > 0) : 0;
  if (from < 0) from = ranked.length;
  let to = before ? ranked.findIndex((h) => byRank(h, before) >= 0) : ranked.length;
  if (to < 0) to = ranked.length;
  to = Math.max(from, to);
  let start = from;
  let end = to;
  if (last !== undefined) start = Math.max(from, to - last);
  else end = Math.min(to, from + (first ?? DEFAULT_PAGE));
  return {
    hits: ranked.slice(start, end).map((h) => ({
      kind: h.kind,
      id: h.id,
      score: h.score,
      highlight: highlightOf(h.content, terms),
      cursor: encodeCursor(h.score, h.id),
    })),
    hasNextPage: end < ranked.length,
    hasPreviousPage: start > 0,
  };
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
      ORDER BY bm25(${s.fts}), m."createdAt" DESC, m.id LIMIT ?`,
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
      ORDER BY ts_rank(to_tsvector('simple', m.content), q) DESC, m."createdAt" DESC, m.id LIMIT $3`,
    tsquery,
    scopeIds,
    limit,
  );
}
