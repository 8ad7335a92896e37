import type { RoomMessage } from '../../generated/sqlite/client.ts';
import { randomUUID } from 'node:crypto';
import { db, dbKind, Prisma, type Tx } from '../../db/client.ts';
import { badInput, isUniqueViolation } from '../../errors.ts';
import { claimAttachments } from '../attachments/attachments.claim.ts';

/** A validated, authorized message on its way to the database. */
export interface NewMessage {
  roomId: string;
  senderId: string;
  content: string;
  meta: unknown;
  clientMsgId: string | null;
  viaApiKeyId: string | null;
  /** The message it replies to (checked to be a top-level, live message of the same room; checked again here). */
  parentId?: string | null;
  /** Members it mentions (checked, distinct): stored as RoomMention rows in the same transaction. */
  mentionIds?: string[];
  /** Checked uploads to attach in the same transaction (attachments.claim.ts); absent for most sends. */
  attachmentIds?: string[];
}

/**
 * Committed, then published: `publish` runs after the commit, once per message, in seq order. For a reply,
 * `parent` is the parent's row with its new reply count, given with the last reply to it in the commit.
 */
export type Publish = (message: RoomMessage, parent: RoomMessage | undefined, room: CommittedRoom) => void;

/** What the commit's own update of the room row returns besides the seq (no extra statement): who else must hear of it. */
export interface CommittedRoom {
  type: 'DM' | 'GROUP' | 'CHANNEL';
  orgId: string;
}

/** Rows committed together, and the parents their replies changed (by id, with the new counts). */
interface Committed {
  rows: RoomMessage[];
  parents: Map<string, RoomMessage>;
  room: CommittedRoom;
}

interface Waiting {
  message: NewMessage;
  /** The caller's own (several apps in one process, as in tests, publish each on its own bus). */
  publish: Publish;
  resolve(m: RoomMessage): void;
  reject(err: unknown): void;
}

interface RoomQueue {
  waiting: Waiting[];
}

/** The most messages one transaction commits (9 parameters a row; far below either database's limit). */
const MAX_BATCH = 256;
const TX = { maxWait: 15_000, timeout: 15_000 } as const;

/** A JSON value as Prisma takes it: null is the database NULL, undefined leaves the column as it is. */
export const jsonValue = (v: unknown) => (v === undefined ? undefined : v === null ? Prisma.DbNull : (v as Prisma.InputJsonValue));

/** Per process, per room: sends waiting for the room's next commit (present while the room has a committer running). */
const queues = new Map<string, RoomQueue>();

/** Batch sizes committed so far, for the benchmark's and tests' curiosity (`batchStats()`). */
const stats = { batches: 0, messages: 0, largest: 0, fallbacks: 0 };
export const batchStats = () => ({ ...stats });

/**
 * Group commit. Sends to one room that arrive while a commit for that room is in flight (or in the same
 * turn of the event loop) are committed together in one transaction: the room's counter moves by k
 * (one gap-free seq range, in arrival order), the k rows go in with one insert, each sender's read
 * marker moves to its last new seq. Callers get their own row; MessageAdded is published after the
 * commit, in seq order. The room row's lock (PostgreSQL) or the single writer (SQLite) still orders
 * the commits of several processes, as with one message per transaction.
 *
 * If a batch fails nothing of it is stored. When it failed on the unique index (a clientMsgId that
 * another process committed meanwhile), the callers whose message is stored get that original and the
 * rest are tried together again; otherwise (a room deleted, ...) its messages are committed again one
 * by one, so each caller gets its own result or error.
 */
export function commitMessage(message: NewMessage, publish: Publish): Promise<RoomMessage> {
  return new Promise((resolve, reject) => {
    const queue = queues.get(message.roomId);
    if (queue) {
      queue.waiting.push({ message, publish, resolve, reject });
      return;
    }
    const fresh: RoomQueue = { waiting: [{ message, publish, resolve, reject }] };
    queues.set(message.roomId, fresh);
    setImmediate(() => void drain(message.roomId, fresh));
  });
}

async function drain(roomId: string, queue: RoomQueue) {
  try {
    while (queue.waiting.length) {
      const batch = queue.waiting.splice(0, MAX_BATCH);
      await commitBatch(batch).catch((err) => batch.forEach((w) => w.reject(err)));
    }
  } finally {
    queues.delete(roomId);
  }
}

async function commitBatch(batch: Waiting[]) {
  // A batch that fails on the unique index (another process committed one of its clientMsgIds meanwhile):
  // the messages already stored get their originals, the rest are tried together once more.
  for (let attempt = 0; batch.length > 1 && attempt < 2; attempt++) {
    let committed: Committed | null = null;
    let failure: unknown;
    try {
      committed = await db.$transaction((tx) => insertAll(tx, batch.map((w) => w.message)), TX);
    } catch (err) {
      failure = err;
      stats.fallbacks++;
    }
    if (committed) {
      const { rows } = committed;
      note(rows.length);
      const parents = parentsByLastReply(committed);
      batch.forEach((w, i) => announce(w, rows[i], parents[i], committed.room));
      batch.forEach((w, i) => w.resolve(rows[i]));
      return;
    }
    if (!isUniqueViolation(failure)) break;
    const originals = await storedOriginals(batch.map((w) => w.message)).catch(() => null);
    if (!originals?.size) break;
    batch = batch.filter((w) => {
      const m = originals.get(keyOf(w.message));
      if (m) w.resolve(m);
      return !m;
    });
  }
  // One message, or a batch that failed: each on its own, in order.
  for (const w of batch) {
    try {
      const { rows, parents, room } = await db.$transaction((tx) => insertOne(tx, w.message), TX);
      const [m] = rows;
      note(1);
      announce(w, m, m.parentId ? parents.get(m.parentId) : undefined, room);
      w.resolve(m);
    } catch (err) {
      w.reject(err);
    }
  }
}

const keyOf = (m: { senderId: string; clientMsgId: string | null }) => `${m.senderId}\0${m.clientMsgId}`;

/** The stored messages with the same sender and clientMsgId as some of these (of one room). */
async function storedOriginals(messages: NewMessage[]): Promise<Map<string, RoomMessage>> {
  const withId = messages.filter((m) => m.clientMsgId);
  if (!withId.length) return new Map();
  const rows = await db.roomMessage.findMany({
    where: { roomId: withId[0].roomId, OR: withId.map((m) => ({ senderId: m.senderId, clientMsgId: m.clientMsgId })) },
  });
  return new Map(rows.map((r) => [keyOf(r), r]));
}

/** After the commit, in seq order. A publish that throws (the caller's closure logs it) must not leave the batch's callers waiting. */
function announce(w: Waiting, m: RoomMessage, parent: RoomMessage | undefined, room: CommittedRoom) {
  try {
    w.publish(m, parent, room);
  } catch {
    /* logged by the caller's publish */
  }
}

/** Each changed parent goes with the last reply to it in the commit (its counts are final as of this commit). */
function parentsByLastReply({ rows, parents }: Committed): (RoomMessage | undefined)[] {
  const out: (RoomMessage | undefined)[] = new Array(rows.length);
  const given = new Set<string>();
  for (let i = rows.length - 1; i >= 0; i--) {
    const p = rows[i].parentId;
    if (p && !given.has(p)) {
      given.add(p);
      out[i] = parents.get(p);
    }
  }
  return out;
}

function note(k: number) {
  stats.batches++;
  stats.messages += k;
  stats.largest = Math.max(stats.largest, k);
}

/** One message: the room's counter, the row, the sender's read marker (and for a reply its parent's counts, for mentions their rows). */
async function insertOne(tx: Tx, m: NewMessage): Promise<Committed> {
  const room = await tx.room.update({
    where: { id: m.roomId },
    data: { lastSeq: { increment: 1 }, lastActivityAt: new Date() },
    select: { lastSeq: true, type: true, orgId: true },
  });
  const row = await tx.roomMessage.create({ data: rowOf(m, room.lastSeq) });
  const parents = await countReplies(tx, m.roomId, [row]);
  await storeMentions(tx, [m], [row]);
  if (m.attachmentIds?.length) await claimAttachments(tx, m.senderId, m.attachmentIds, { roomMessageId: row.id });
  await tx.roomMember.updateMany({ where: { roomId: m.roomId, userId: m.senderId, lastReadSeq: { lt: row.seq } }, data: { lastReadSeq: row.seq } });
  return { rows: [row], parents, room };
}

/**
 * k messages of one room, in this order: seqs last-k+1 .. last. Returns the rows in the same order.
 *
 * The rows go in with one INSERT written out, not `createManyAndReturn`: Prisma never caches the query plan of a
 * createMany (each call is compiled anew by its WASM query compiler, 15 % of a send's CPU under load), and the
 * rows it would return are the ones given here. Values are bound as Prisma binds them (times as its adapters
 * format Dates), ids are made here (UUIDs, as for single sends: rowOf), and `meta` is JSON text (jsonb on
 * PostgreSQL). A duplicate clientMsgId fails the statement with a unique violation, as before (isUniqueViolation).
 */
async function insertAll(tx: Tx, messages: NewMessage[]): Promise<Committed> {
  const roomId = messages[0].roomId;
  const room = await tx.room.update({
    where: { id: roomId },
    data: { lastSeq: { increment: messages.length }, lastActivityAt: new Date() },
    select: { lastSeq: true, type: true, orgId: true },
  });
  const first = room.lastSeq - messages.length + 1;
  const createdAt = new Date();
  const rows: RoomMessage[] = messages.map((m, i) => ({
    id: randomUUID(),
    roomId,
    seq: first + i,
    senderId: m.senderId,
    content: m.content,
    meta: (m.meta ?? null) as RoomMessage['meta'],
    clientMsgId: m.clientMsgId,
    viaApiKeyId: m.viaApiKeyId,
    editedAt: null,
    deletedAt: null,
    createdAt,
    parentId: m.parentId ?? null,
    replyCount: 0,
    lastReplyAt: null,
    pinnedAt: null,
    pinnedById: null,
  }));
  const json = (v: unknown) => {
    const text = v === null ? null : JSON.stringify(v);
    return dbKind === 'postgresql' ? Prisma.sql`CAST(${text} AS jsonb)` : Prisma.sql`${text}`;
  };
  await tx.$executeRaw`INSERT INTO "RoomMessage" ("id", "roomId", "seq", "senderId", "content", "meta", "clientMsgId", "viaApiKeyId", "createdAt", "parentId")
    VALUES ${Prisma.join(rows.map((r) => Prisma.sql`(${r.id}, ${r.roomId}, ${r.seq}, ${r.senderId}, ${r.content}, ${json(r.meta)}, ${r.clientMsgId}, ${r.viaApiKeyId}, ${r.createdAt}, ${r.parentId})`))}`;
  // Replies and mentions cost statements only when the batch has some.
  const parents = await countReplies(tx, roomId, rows);
  await storeMentions(tx, messages, rows);

  // Uploads attached to messages of the batch: an upload another send took first fails the batch (then each is tried alone).
  for (const [i, m] of messages.entries()) {
    if (m.attachmentIds?.length) await claimAttachments(tx, m.senderId, m.attachmentIds, { roomMessageId: rows[i].id });
  }

  // Each sender has read up to its last new message (a marker only moves forward).
  const lastOf = new Map<string, number>();
  rows.forEach((r) => lastOf.set(r.senderId, r.seq));
  if (lastOf.size === 1) {
    const [[userId, seq]] = lastOf;
    await tx.roomMember.updateMany({ where: { roomId, userId, lastReadSeq: { lt: seq } }, data: { lastReadSeq: seq } });
  } else {
    const seqOf = Prisma.sql`CASE "userId" ${Prisma.join(
      [...lastOf].map(([userId, seq]) => Prisma.sql`WHEN ${userId} THEN CAST(${seq} AS INTEGER)`),
      ' ',
    )} END`;
    await tx.$executeRaw`UPDATE "RoomMember" SET "lastReadSeq" = ${seqOf}
      WHERE "roomId" = ${roomId} AND "userId" IN (${Prisma.join([...lastOf.keys()])}) AND "lastReadSeq" < ${seqOf}`;
  }
  return { rows, parents, room };
}

const noParent = () => badInput('parentId: no message to reply to: it must be a message of this room that is neither deleted nor itself a reply', 'parentId');

/**
 * The replies among these new rows add to their parents' replyCount (k replies to one parent: +k) and set
 * their lastReplyAt, under the parents' row locks, so concurrent replies never lose a count. A parent that is
 * not (or no longer) a live top-level message of the room fails the whole transaction (sendMessage checked it
 * before; this covers a delete in between). Returns the parents with their new counts. No statement without replies.
 */
async function countReplies(tx: Tx, roomId: string, rows: RoomMessage[]): Promise<Map<string, RoomMessage>> {
  const added = new Map<string, { k: number; at: Date }>();
  for (const r of rows) {
    if (!r.parentId) continue;
    const a = added.get(r.parentId) ?? { k: 0, at: r.createdAt };
    added.set(r.parentId, { k: a.k + 1, at: r.createdAt });
  }
  if (!added.size) return new Map();
  const live = { roomId, parentId: null, deletedAt: null };
  if (added.size === 1) {
    const [[id, { k, at }]] = added;
    const parent = await tx.roomMessage
      .update({ where: { id, ...live }, data: { replyCount: { increment: k }, lastReplyAt: at } })
      .catch((err: { code?: string }) => Promise.reject(err?.code === 'P2025' ? noParent() : err));
    return new Map([[id, parent]]);
  }
  // Several parents: one statement for the counts (all rows of a batch share createdAt), one to read them back.
  const ids = [...added.keys()];
  const plus = Prisma.sql`CASE "id" ${Prisma.join(
    [...added].map(([id, { k }]) => Prisma.sql`WHEN ${id} THEN CAST(${k} AS INTEGER)`),
    ' ',
  )} END`;
  const changed = await tx.$executeRaw`UPDATE "RoomMessage" SET "replyCount" = "replyCount" + ${plus}, "lastReplyAt" = ${rows[rows.length - 1].createdAt}
    WHERE "roomId" = ${roomId} AND "id" IN (${Prisma.join(ids)}) AND "parentId" IS NULL AND "deletedAt" IS NULL`;
  if (changed !== ids.length) throw noParent();
  const parents = await tx.roomMessage.findMany({ where: { id: { in: ids } } });
  return new Map(parents.map((p) => [p.id, p]));
}

/** The mentions of these new rows (one statement for all of them; none without mentions). */
async function storeMentions(tx: Tx, messages: NewMessage[], rows: RoomMessage[]) {
  const data = rows.flatMap((r, i) => (messages[i].mentionIds ?? []).map((userId) => ({ messageId: r.id, roomId: r.roomId, seq: r.seq, userId })));
  if (data.length) await tx.roomMention.createMany({ data });
}

function rowOf(m: NewMessage, seq: number) {
  return {
    id: randomUUID(),
    roomId: m.roomId,
    seq,
    senderId: m.senderId,
    content: m.content,
    meta: jsonValue(m.meta),
    clientMsgId: m.clientMsgId,
    viaApiKeyId: m.viaApiKeyId,
    parentId: m.parentId ?? null,
  };
}
