import { db, Prisma, readRows } from '../../db/client.ts';
import { columnsOf, q, rowTo, tableOf, type Columns } from '../../db/rows.ts';

/**
 * Threads with a page of each thread's messages (and their authors) in two statements, whatever the page sizes.
 *
 * Pothos folds `threads { messages(last: 20) { … author } }` into one Prisma query with a nested
 * `include: { messages: { take, orderBy, include: { author } } }`. Prisma runs that as one statement per level, and a
 * per-parent `take` across many parents as an unlimited read trimmed in memory. Here the threads are read as asked
 * (minus the messages), then one statement reads every thread's page with a window function (ROW_NUMBER per
 * thread) joined to the authors. The rows are put where Pothos reads a loaded relation (`thread.messages`,
 * `message.author`), so the connection and cursor handling stay Pothos's own.
 *
 * Only the page shape Pothos makes without a cursor is taken over (take ±N, skip 0, the threads' message order,
 * nothing nested but `author`); anything else goes to Prisma unchanged.
 */

/** The order Thread.messages pages in (see threads.schema.ts): the order they were stored, as threadEvents delivers them. */
export const messageOrder = [{ seq: 'asc' as const }, { id: 'asc' as const }];

type MessagesArg = { take?: number; skip?: number; cursor?: unknown; where?: unknown; orderBy?: unknown; include?: Record<string, unknown>; select?: Record<string, unknown> };

/** The nested `messages` argument when this module can serve it, else null. */
function pageOf(arg: unknown): { take: number; author: boolean } | null {
  if (!arg || typeof arg !== 'object') return null;
  const m = arg as MessagesArg;
  if (typeof m.take !== 'number' || m.cursor !== undefined || (m.skip ?? 0) !== 0 || m.where !== undefined) return null;
  if (JSON.stringify(m.orderBy) !== JSON.stringify(messageOrder)) return null;
  if (m.select) return null; // Message is loaded with include (whole rows); a select means a shape we do not build
  const nested = Object.keys(m.include ?? {});
  if (nested.some((k) => k !== 'author')) return null;
  return { take: m.take, author: m.include?.author === true };
}

let messageColumns: Columns | undefined;
let authorColumns: Columns | undefined;

/** Each thread's `take` first (take > 0) or last (take < 0) messages in messageOrder, oldest first, one statement. */
export async function messagePages(threadIds: string[], take: number, withAuthor: boolean): Promise<Map<string, unknown[]>> {
  const pages = new Map<string, unknown[]>(threadIds.map((id) => [id, []]));
  if (!threadIds.length || take === 0) return pages;
  const dir = take < 0 ? 'DESC' : 'ASC';
  const m = (messageColumns ??= columnsOf('Message', 'm'));
  // Authors without their credentials: no field of User reads them, and a page of 400 messages copied the hash 400 times.
  const u = (authorColumns ??= columnsOf('User', 'u', ['passwordHash', 'tokenVersion']));
  const cols = withAuthor ? `${m.sql}, ${u.sql}` : m.sql;
  const authorJoin = withAuthor ? `LEFT JOIN ${tableOf('User')} u ON u.${q('id')} = m.${q('authorId')}` : '';
  const sql = Prisma.sql([
    `SELECT ${cols} FROM (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.${q('threadId')} ORDER BY x.${q('seq')} ${dir}, x.${q('id')} ${dir}) AS ${q('rn')} ` +
      `FROM ${tableOf('Message')} x WHERE x.${q('threadId')} IN (`,
    ...threadIds.slice(1).map(() => ', '),
    `)) m ${authorJoin} WHERE m.${q('rn')} <= `,
    ` ORDER BY m.${q('threadId')}, m.${q('rn')}`,
  ], ...threadIds, Math.abs(take));
  // Straight on the driver: Prisma's $queryRaw took twice as long as the database to hand over these rows.
  const rows = await readRows(sql);
  const authorAt = m.fields.length;
  const authorIdAt = authorAt + u.fields.findIndex((f) => f.name === 'id');
  for (const row of rows) {
    const message = rowTo(m.fields, row, 0);
    if (withAuthor) message.author = row[authorIdAt] == null ? null : rowTo(u.fields, row, authorAt);
    pages.get(message.threadId as string)!.push(message);
  }
  if (take < 0) for (const page of pages.values()) page.reverse(); // read newest first; pages are oldest first
  return pages;
}

/**
 * `db.thread.findMany(args)`, with a nested messages page (as Pothos plans Thread.messages) read by
 * messagePages: threads, messages and authors in two statements.
 */
export async function findThreadsWithMessages<A extends Prisma.ThreadFindManyArgs>(args: A) {
  const rel = (args.include ?? args.select) as Record<string, unknown> | undefined;
  const page = pageOf(rel?.messages);
  if (!rel || !page) return db.thread.findMany(args);
  const { messages: _messages, ...rest } = rel;
  const stripped = args.include
    ? { ...args, include: rest }
    : { ...args, select: { ...rest, id: true } };
  const threads = (await db.thread.findMany(stripped as A)) as unknown as Array<{ id: string; messages?: unknown[] }>;
  const pages = await messagePages(threads.map((t) => t.id), page.take, page.author);
  for (const t of threads) t.messages = pages.get(t.id);
  return threads as unknown as Awaited<ReturnType<typeof db.thread.findMany<A>>>;
}
