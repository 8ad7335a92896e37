import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db, dbKind, TX_TIMING } from '../../db/client.ts';
import { removeStoredFiles, STORED_FILE_COLUMNS } from '../attachments/attachments.service.ts';
import type { StoredFile } from '../attachments/attachments.storage.ts';
import { recordAudit } from '../audit/audit.service.ts';

/** Messages one statement reads or deletes. */
const BATCH = 500;
/** Messages one pass deletes per org at most; the rest wait for the next pass (one short transaction per org). */
export const MAX_PER_ORG_PASS = 5000;
const DAY_MS = 86_400_000;

/** How many days an org keeps room messages: its own setting, else the server's; 0 keeps them forever. */
export function effectiveRetentionDays(org: { retentionDays: number | null }, config: Config): number {
  return org.retentionDays ?? config.retention.roomMessagesDays;
}

export interface RetentionPass {
  /** Orgs that had messages pruned in this pass. */
  orgs: number;
  rooms: number;
  messages: number;
  attachments: number;
}

/**
 * One pass of retention: for every org that keeps room messages for a limited time, deletes (for good) the messages
 * older than that, at most MAX_PER_ORG_PASS per org. Safe to run on several instances at once: each org is pruned in
 * one transaction that first takes a per-org lock (PostgreSQL: a transaction-level advisory lock, skipped when
 * another instance holds it; SQLite: the one writer), deletes are idempotent, and prunedThroughSeq only moves up.
 */
export async function runRetentionPass(app: AppServices, now = new Date()): Promise<RetentionPass> {
  const byDefault = app.config.retention.roomMessagesDays;
  const orgs = await db.org.findMany({
    where: byDefault > 0 ? { OR: [{ retentionDays: null }, { retentionDays: { gt: 0 } }] } : { retentionDays: { gt: 0 } },
    select: { id: true, retentionDays: true },
  });
  const total: RetentionPass = { orgs: 0, rooms: 0, messages: 0, attachments: 0 };
  for (const org of orgs) {
    const days = effectiveRetentionDays(org, app.config);
    if (days <= 0) continue;
    try {
      const pruned = await pruneOrg(app, org.id, new Date(now.getTime() - days * DAY_MS));
      if (!pruned.messages) continue;
      total.orgs++;
      total.rooms += pruned.rooms;
      total.messages += pruned.messages;
      total.attachments += pruned.attachments;
    } catch (err) {
      app.log.error({ err, orgId: org.id }, 'retention: pruning an org failed');
    }
  }
  if (total.messages) app.log.info(total, 'retention pass pruned room messages');
  return total;
}

/** Per room, the seq-ordered prefix of its stored messages older than `cutoff`: pruned seqs stay a prefix. */
async function candidates(orgId: string, cutoff: Date) {
  // A room created after the cutoff has nothing that old.
  const rooms = await db.room.findMany({
    where: { orgId, createdAt: { lt: cutoff }, lastSeq: { gt: db.room.fields.prunedThroughSeq } },
    select: { id: true, prunedThroughSeq: true },
    orderBy: { id: 'asc' },
  });
  const out: { roomId: string; ids: string[]; throughSeq: number }[] = [];
  let budget = MAX_PER_ORG_PASS;
  for (const room of rooms) {
    if (budget <= 0) break;
    const ids: string[] = [];
    let through = room.prunedThroughSeq;
    for (let more = true; more && budget > 0; ) {
      const take = Math.min(BATCH, budget);
      const rows = await db.roomMessage.findMany({
        where: { roomId: room.id, seq: { gt: through } },
        orderBy: { seq: 'asc' },
        take,
        select: { id: true, seq: true, createdAt: true },
      });
      const firstKept = rows.findIndex((r) => r.createdAt >= cutoff);
      const prefix = firstKept === -1 ? rows : rows.slice(0, firstKept);
      for (const r of prefix) ids.push(r.id);
      if (prefix.length) through = prefix[prefix.length - 1].seq;
      budget -= prefix.length;
      more = firstKept === -1 && rows.length === take;
    }
    if (ids.length) out.push({ roomId: room.id, ids, throughSeq: through });
  }
  return out;
}

async function pruneOrg(app: AppServices, orgId: string, cutoff: Date) {
  const found = await candidates(orgId, cutoff);
  if (!found.length) return { rooms: 0, messages: 0, attachments: 0 };
  const result = await db.$transaction(async (tx) => {
    if (dbKind === 'postgresql') {
      const [{ locked }] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext(${`confab:retention:${orgId}`})) AS "locked"`;
      if (!locked) return null;
    }
    const rooms: { roomId: string; throughSeq: number }[] = [];
    const files: StoredFile[] = [];
    let messages = 0;
    for (const room of found) {
      for (let i = 0; i < room.ids.length; i += BATCH) {
        const ids = room.ids.slice(i, i + BATCH);
        files.push(...(await tx.attachment.findMany({ where: { roomMessageId: { in: ids } }, select: STORED_FILE_COLUMNS })));
        messages += (await tx.roomMessage.deleteMany({ where: { id: { in: ids } } })).count;
      }
      // Only up: another instance (or an earlier pass) may have gone further.
      const moved = await tx.room.updateMany({ where: { id: room.roomId, prunedThroughSeq: { lt: room.throughSeq } }, data: { prunedThroughSeq: room.throughSeq } });
      if (!moved.count) continue;
      rooms.push(room);
      // Pruned messages cannot be read: they no longer count as unread.
      await tx.roomMember.updateMany({ where: { roomId: room.roomId, lastReadSeq: { lt: room.throughSeq } }, data: { lastReadSeq: room.throughSeq } });
    }
    if (files.length) await tx.attachment.deleteMany({ where: { id: { in: files.map((f) => f.id) } } });
    if (messages) {
      await recordAudit(tx, {
        orgId,
        actor: null,
        action: 'org.retention.prune',
        targetType: 'Org',
        targetId: orgId,
        data: { before: cutoff.toISOString(), messages, rooms: rooms.length, attachments: files.length },
      });
    }
    return { rooms, files, messages };
  }, TX_TIMING);
  if (!result) return { rooms: 0, messages: 0, attachments: 0 };
  for (const r of result.rooms) app.pubsub.publish('room:event', r.roomId, { kind: 'HistoryPruned', throughSeq: r.throughSeq });
  await removeStoredFiles(app, result.files);
  return { rooms: result.rooms.length, messages: result.messages, attachments: result.files.length };
}
