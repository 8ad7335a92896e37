import type { AppServices } from '../../context.ts';
import { db, Prisma, readRows, TX_TIMING, type Tx } from '../../db/client.ts';
import { dateValue } from '../../db/rows.ts';
import type { InboxEntryJson, InboxEntryKind, InvitePayload, NewInboxEntry } from './inbox.topics.ts';

/**
 * The durable half of the inbox: a per-user log of the rare events (rooms added and removed, new DMs,
 * notifications, invites). Room messages are not written per recipient: the inbox feed (inbox.stream.ts)
 * hears them on the rooms' own topics.
 */

/** Users whose seq one statement moves (far below either database's parameter limit). */
const CHUNK = 500;

/**
 * Appends entries to their users' inbox logs, then announces each on `inbox:event`. Each user's counter
 * (User.inboxSeq) moves in the same transaction that stores the entries, so a user's seqs are gap-free and in
 * commit order. Called by the producers AFTER their own write committed; it never fails them: an error is
 * logged (the feeds' periodic re-check still brings their room lists in line).
 */
export async function appendInbox(app: AppServices, entries: NewInboxEntry[]): Promise<void> {
  if (!entries.length) return;
  const byUser = new Map<string, NewInboxEntry[]>();
  for (const e of entries) {
    const list = byUser.get(e.userId);
    if (list) list.push(e);
    else byUser.set(e.userId, [e]);
  }
  let stored: (InboxEntryJson & { userId: string })[] | undefined;
  for (let attempt = 1; !stored; attempt++) {
    try {
      stored = await db.$transaction((tx) => storeEntries(tx, byUser), TX_TIMING);
    } catch (err) {
      // One more try: two appends to the same users may collide (a deadlock or a busy SQLite file).
      if (attempt < 2) continue;
      app.log.error({ err, entries: entries.length, kinds: [...new Set(entries.map((e) => e.kind))] }, 'appending to the inbox failed');
      return;
    }
  }
  for (const { userId, ...entry } of stored) {
    try {
      app.pubsub.publish('inbox:event', userId, entry as InboxEntryJson);
    } catch (err) {
      app.log.error({ err, userId, seq: entry.seq }, 'publishing an inbox entry failed');
    }
  }
}


async function storeEntries(tx: Tx, byUser: Map<string, NewInboxEntry[]>) {
  // Users grouped by how many entries they get (nearly always one): one UPDATE ... RETURNING per group. Ids in
  // order, so that two appends lock the same users in the same order.
  const byCount = new Map<number, string[]>();
  for (const [userId, list] of byUser) {
    const ids = byCount.get(list.length);
    if (ids) ids.push(userId);
    else byCount.set(list.length, [userId]);
  }
  const createdAt = new Date();
  const out: (InboxEntryJson & { userId: string })[] = [];
  for (const [k, ids] of byCount) {
    ids.sort();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const users = await tx.user.updateManyAndReturn({
        where: { id: { in: ids.slice(i, i + CHUNK) } },
        data: { inboxSeq: { increment: k } },
        select: { id: true, inboxSeq: true },
      });
      for (const u of users) {
        byUser.get(u.id)!.forEach((e, j) =>
          out.push({ userId: u.id, seq: u.inboxSeq - k + 1 + j, kind: e.kind, payload: e.payload, createdAt: createdAt.toISOString() } as InboxEntryJson & { userId: string }),
        );
      }
    }
  }
  if (out.length) {
    await tx.inboxEntry.createMany({
      data: out.map((e) => ({ userId: e.userId, seq: e.seq, kind: e.kind, payload: e.payload as unknown as Prisma.InputJsonValue, createdAt })),
    });
  }
  return out.sort((a, b) => (a.userId === b.userId ? a.seq - b.seq : 0));
}

/** RoomAdded (or RoomRemoved) for each room of an org that the user is in: they joined the org again, or left it. */
export async function appendOrgRooms(app: AppServices, orgId: string, userId: string, kind: 'RoomAdded' | 'RoomRemoved'): Promise<void> {
  try {
    const rows = await db.roomMember.findMany({ where: { userId, room: { orgId } }, select: { roomId: true } });
    await appendInbox(app, rows.map((r) => ({ userId, kind, payload: { roomId: r.roomId } })));
  } catch (err) {
    app.log.error({ err, orgId, userId }, 'appending org rooms to the inbox failed');
  }
}

/** InviteReceived for the user registered with the invite's email, if there is one. */
export async function appendInviteReceived(
  app: AppServices,
  invite: { id: string; orgId: string; email: string; role: InvitePayload['role']; invitedById: string; expiresAt: Date },
): Promise<void> {
  try {
    const user = await db.user.findUnique({ where: { email: invite.email }, select: { id: true } });
    if (!user) return;
    const [org, inviter] = await Promise.all([
      db.org.findUnique({ where: { id: invite.orgId }, select: { name: true } }),
      db.user.findUnique({ where: { id: invite.invitedById }, select: { name: true } }),
    ]);
    if (!org) return;
    const payload: InvitePayload = {
      inviteId: invite.id,
      orgId: invite.orgId,
      orgName: org.name,
      role: invite.role,
      invitedByName: inviter?.name ?? '',
      expiresAt: invite.expiresAt.toISOString(),
    };
    await appendInbox(app, [{ userId: user.id, kind: 'InviteReceived', payload }]);
  } catch (err) {
    app.log.error({ err, inviteId: invite.id }, 'appending an invite to the inbox failed');
  }
}

/** The stored entries of a user with seq in (after, before), oldest first, at most `take`. */
export async function inboxEntries(userId: string, after: number, before: number | undefined, take: number): Promise<InboxEntryJson[]> {
  const rows = await db.inboxEntry.findMany({
    where: { userId, seq: { gt: after, ...(before !== undefined ? { lt: before } : {}) } },
    orderBy: { seq: 'asc' },
    take,
  });
  return rows.map((r) => ({ seq: r.seq, kind: r.kind as InboxEntryKind, payload: r.payload, createdAt: r.createdAt.toISOString() }) as InboxEntryJson);
}

// ── Cursors ──

/** Where a client is in its inbox: its log's seq, and a watermark of room activity (ms since the epoch). */
export interface InboxCursor {
  logSeq: number;
  at: number;
}

/**
 * How far before the watermark a resume looks for room activity: a message committed on another instance (or
 * announced late) may have a creation time a little before a later one the client already received.
 */
export const RESUME_SKEW_MS = 5_000;

/** Opaque to clients: base64url of `<logSeq>.<ms>`. */
export const encodeCursor = (c: InboxCursor) => Buffer.from(`${c.logSeq}.${c.at}`).toString('base64url');

/** null when it is not a cursor this server hands out. */
export function decodeCursor(cursor: string): InboxCursor | null {
  if (cursor.length > 40) return null;
  const m = /^(\d{1,10})\.(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m) return null;
  const c = { logSeq: Number(m[1]), at: Number(m[2]) };
  return encodeCursor(c) === cursor ? c : null;
}

/** The cursor of now: subscribing with it delivers everything that happens after this point. */
export async function currentCursor(userId: string): Promise<string> {
  const at = Date.now();
  const user = await db.user.findUnique({ where: { id: userId }, select: { inboxSeq: true } });
  return encodeCursor({ logSeq: user?.inboxSeq ?? 0, at });
}

// ── Counts ──

/** A member's standing in one of their rooms, as the inbox keeps it. */
export interface RoomCounts {
  roomId: string;
  orgId: string;
  lastSeq: number;
  lastReadSeq: number;
  mentionCount: number;
  lastActivityAt: number;
}

/**
 * The SQL condition that the user (`m`'s) is still a member of the room's org (`r`): rooms of an org they left are not
 * theirs. And that the room (`r`) is not archived: archived rooms leave the inbox and its counts (archiveRoom).
 */
const inInbox = (userId: string) =>
  Prisma.sql`r."archivedAt" IS NULL AND EXISTS (SELECT 1 FROM "Membership" o WHERE o."orgId" = r."orgId" AND o."userId" = ${userId})`;

/** The rooms the user is in (in orgs they are still in), archived ones left out. */
export async function memberRooms(userId: string): Promise<{ roomId: string; orgId: string }[]> {
  const rows = await readRows(Prisma.sql`
    SELECT m."roomId", r."orgId" FROM "RoomMember" m JOIN "Room" r ON r."id" = m."roomId"
    WHERE m."userId" = ${userId} AND ${inInbox(userId)}`);
  return rows.map(([roomId, orgId]) => ({ roomId: String(roomId), orgId: String(orgId) }));
}

/**
 * The user's counts in these rooms (those they are still in): ONE statement however many rooms (per CHUNK), so
 * that the read marker, the room's last seq and the mentions are one consistent view. The feed skips the live
 * events these counts already include (a message at or below `lastSeq`, a marker at or below `lastReadSeq`):
 * read apart, a message committed between two reads would be counted in one and not the other (its mention
 * counted twice, or the sender's own message left unread). Unread mentions are those above the read marker and
 * at or below the room's last seq, both as read here.
 */
export async function roomCounts(userId: string, roomIds: string[]): Promise<Map<string, RoomCounts>> {
  const out = new Map<string, RoomCounts>();
  for (let i = 0; i < roomIds.length; i += CHUNK) {
    const ids = roomIds.slice(i, i + CHUNK);
    const rows = await readRows(Prisma.sql`
      SELECT m."roomId", r."orgId", r."lastSeq", m."lastReadSeq", r."lastActivityAt",
        (SELECT COUNT(*) FROM "RoomMention" mn
          WHERE mn."userId" = m."userId" AND mn."roomId" = m."roomId" AND mn."seq" > m."lastReadSeq" AND mn."seq" <= r."lastSeq")
      FROM "RoomMember" m JOIN "Room" r ON r."id" = m."roomId"
      WHERE m."userId" = ${userId} AND m."roomId" IN (${Prisma.join(ids)}) AND ${inInbox(userId)}`);
    for (const [roomId, orgId, lastSeq, lastReadSeq, lastActivityAt, mentions] of rows) {
      out.set(String(roomId), {
        roomId: String(roomId),
        orgId: String(orgId),
        lastSeq: Number(lastSeq),
        lastReadSeq: Number(lastReadSeq),
        mentionCount: Number(mentions),
        lastActivityAt: dateValue(lastActivityAt)!.getTime(),
      });
    }
  }
  return out;
}

/** Unread mentions of the user in a room with seq in (after, upTo]. */
export async function mentionsBetween(userId: string, roomId: string, after: number, upTo: number): Promise<number> {
  if (upTo <= after) return 0;
  return db.roomMention.count({ where: { userId, roomId, seq: { gt: after, lte: upTo } } });
}

/** Of these messages, those that mention the user. */
export async function mentionedIn(userId: string, messageIds: string[]): Promise<Set<string>> {
  if (!messageIds.length) return new Set();
  const rows = await db.roomMention.findMany({ where: { userId, messageId: { in: messageIds } }, select: { messageId: true } });
  return new Set(rows.map((r) => r.messageId));
}

/**
 * `me.unreadCount` and `me.mentionCount`: the totals over the viewer's rooms (in orgs they are still in), in one
 * statement.
 */
export async function viewerTotals(userId: string): Promise<{ unreadCount: number; mentionCount: number }> {
  const [row] = await readRows(Prisma.sql`
    SELECT
      (SELECT COALESCE(SUM(r."lastSeq" - m."lastReadSeq"), 0) FROM "RoomMember" m JOIN "Room" r ON r."id" = m."roomId"
        WHERE m."userId" = ${userId} AND r."lastSeq" > m."lastReadSeq" AND ${inInbox(userId)}),
      (SELECT COUNT(*) FROM "RoomMention" mn
        JOIN "RoomMember" m ON m."roomId" = mn."roomId" AND m."userId" = mn."userId"
        JOIN "Room" r ON r."id" = mn."roomId"
        WHERE mn."userId" = ${userId} AND mn."seq" > m."lastReadSeq" AND ${inInbox(userId)})`);
  return { unreadCount: Number(row?.[0] ?? 0), mentionCount: Number(row?.[1] ?? 0) };
}
