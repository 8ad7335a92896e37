import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { openFeed, type Feed, type FeedControl } from '../../live/feed.ts';
import { messageToJson, type MessageJson, type RoomEvent } from '../rooms/rooms.topics.ts';
import {
  encodeCursor,
  inboxEntries,
  memberRooms,
  mentionedIn,
  mentionsBetween,
  RESUME_SKEW_MS,
  roomCounts,
  type InboxCursor,
  type RoomCounts,
} from './inbox.service.ts';
import type { InboxEntryJson, InvitePayload } from './inbox.topics.ts';

/** What the inbox delivers; `cursor` resumes after it. */
export type InboxItem =
  | { kind: 'RoomAdded'; cursor: string; roomId: string; unreadCount: number; mentionCount: number }
  | { kind: 'DirectRoomCreated'; cursor: string; roomId: string; byUserId: string; unreadCount: number; mentionCount: number }
  | { kind: 'RoomRemoved'; cursor: string; roomId: string }
  | { kind: 'MessageAdded'; cursor: string; roomId: string; message: MessageJson; unreadCount: number; mentionCount: number; mentioned: boolean }
  | { kind: 'RoomRead'; cursor: string; roomId: string; seq: number; unreadCount: number; mentionCount: number }
  | { kind: 'NotificationCreated'; cursor: string; notificationId: string }
  | { kind: 'InviteReceived'; cursor: string; invite: InvitePayload };

const PAGE = 500;

const unread = (r: RoomCounts) => Math.max(0, r.lastSeq - r.lastReadSeq);

/**
 * One user's inbox: their log (InboxEntry, durable, gap-free seqs) and the messages of every room they are in,
 * with their unread and mention counts kept here, per subscriber, in memory.
 *
 * It listens FIRST (to the user's `inbox:event`, then to each room's `room:event`), then reads: the log's
 * position, the rooms, and their counts (in one statement, so marker, last seq and mentions agree). Events heard
 * meanwhile wait and are handled after, skipping what the reads already counted (a message at or below the room's last seq read, a log entry at or
 * below the log seq handed out). A log entry whose seq jumps ahead is preceded by the missing ones read from
 * the database, so the log is delivered with no gap and no duplicate.
 *
 * Only rooms the user is in are heard: a room leaves the feed on the user's own RoomMemberLeft, a RoomRemoved
 * entry, their removal from the room's org, and the periodic re-check (`resync`), which also takes in rooms
 * whose RoomAdded was lost. Room listeners stay until the feed ends (a room may come back), but events of rooms
 * not in the feed are dropped at once.
 *
 * With `after`: the log entries after its seq, then one InboxMessageAdded per room active since its watermark
 * (less RESUME_SKEW_MS), with the room's newest message and current counts; then live events.
 */
export function inboxFeed(app: AppServices, userId: string, after: InboxCursor | null): { feed: Feed<InboxItem>; resync(): void } {
  const rooms = new Map<string, RoomCounts>();
  const heardRooms = new Set<string>();
  const heardOrgs = new Set<string>();
  let logSeq = 0;
  let at = 0;
  let started = false;
  let f!: FeedControl<InboxItem>;
  const cursor = () => encodeCursor({ logSeq, at });

  const hearOrg = (orgId: string) => {
    if (heardOrgs.has(orgId)) return;
    heardOrgs.add(orgId);
    // Removed from the org: its rooms leave at once (their RoomRemoved entries follow on the log).
    f.listen('org:membershipChanged', orgId, (e) => {
      if (e.userId !== userId || e.role !== null) return;
      for (const [id, r] of rooms) if (r.orgId === orgId) rooms.delete(id);
    });
  };
  const hearRoom = (roomId: string) => {
    if (heardRooms.has(roomId)) return;
    heardRooms.add(roomId);
    f.listen('room:event', roomId, (e) => onRoomEvent(roomId, e));
  };
  const keep = (counts: Map<string, RoomCounts>) => {
    for (const [id, c] of counts) {
      rooms.set(id, c);
      hearOrg(c.orgId);
    }
  };

  /** Starts following one room (heard first, then read); null when the user is not in it (any more). */
  const follow = async (roomId: string): Promise<RoomCounts | null> => {
    hearRoom(roomId);
    const c = (await roomCounts(userId, [roomId])).get(roomId) ?? null;
    if (c) keep(new Map([[roomId, c]]));
    else rooms.delete(roomId);
    return c;
  };

  const pushMessage = (r: RoomCounts, m: MessageJson, mentioned: boolean) =>
    f.push({ kind: 'MessageAdded', cursor: cursor(), roomId: r.roomId, message: m, unreadCount: unread(r), mentionCount: r.mentionCount, mentioned });

  const onMessage = (r: RoomCounts, m: MessageJson) => {
    r.lastSeq = m.seq;
    const t = Date.parse(m.createdAt);
    r.lastActivityAt = Math.max(r.lastActivityAt, t);
    at = Math.max(at, t);
    // The sender's own message moves their read marker to it (messages.commit.ts): nothing unread up to it.
    if (m.senderId === userId) {
      r.lastReadSeq = Math.max(r.lastReadSeq, m.seq);
      r.mentionCount = 0;
      return pushMessage(r, m, false);
    }
    const mentioned = !!m.mentionIds?.includes(userId);
    if (mentioned && m.seq > r.lastReadSeq) r.mentionCount++;
    pushMessage(r, m, mentioned);
  };

  const onRoomEvent = (roomId: string, e: RoomEvent) => {
    const r = rooms.get(roomId);
    if (!r) return;
    if (e.kind === 'MessageAdded') {
      const m = e.message;
      if (m.seq <= r.lastSeq) return;
      // Messages lost on the way (a Redis hiccup): their mentions of the user are counted from the database.
      if (m.seq > r.lastSeq + 1) {
        const from = Math.max(r.lastSeq, r.lastReadSeq);
        r.lastSeq = m.seq - 1;
        return f.later(async () => {
          const missed = await mentionsBetween(userId, roomId, from, m.seq - 1);
          if (rooms.get(roomId) !== r) return;
          r.mentionCount += missed;
          onMessage(r, m);
        });
      }
      return onMessage(r, m);
    }
    if (e.kind === 'ReadReceipt' && e.userId === userId) {
      if (e.seq <= r.lastReadSeq) return;
      r.lastReadSeq = e.seq;
      const read = () => f.push({ kind: 'RoomRead', cursor: cursor(), roomId, seq: r.lastReadSeq, unreadCount: unread(r), mentionCount: r.mentionCount });
      if (e.seq >= r.lastSeq) {
        r.mentionCount = 0;
        return read();
      }
      // Read up to the middle: the mentions still above the marker (of the messages this feed has counted).
      const upTo = r.lastSeq;
      return f.later(async () => {
        const left = await mentionsBetween(userId, roomId, e.seq, upTo);
        if (rooms.get(roomId) !== r) return;
        r.mentionCount = left;
        read();
      });
    }
    if (e.kind === 'MemberLeft' && e.userId === userId) rooms.delete(roomId);
  };

  /** One log entry, in seq order, each once. */
  const onEntry = async (e: InboxEntryJson) => {
    if (e.seq <= logSeq) return;
    logSeq = e.seq;
    switch (e.kind) {
      case 'RoomAdded':
      case 'DirectRoomCreated': {
        const r = await follow(e.payload.roomId);
        // Added and gone again before this was delivered: the RoomRemoved that follows says so; nothing of it is shown.
        if (!r) return;
        const counts = { cursor: cursor(), roomId: r.roomId, unreadCount: unread(r), mentionCount: r.mentionCount };
        return f.push(e.kind === 'DirectRoomCreated' ? { kind: e.kind, byUserId: e.payload.byUserId, ...counts } : { kind: e.kind, ...counts });
      }
      case 'RoomRemoved':
        rooms.delete(e.payload.roomId);
        return f.push({ kind: 'RoomRemoved', cursor: cursor(), roomId: e.payload.roomId });
      case 'NotificationCreated':
        return f.push({ kind: 'NotificationCreated', cursor: cursor(), notificationId: e.payload.notificationId });
      case 'InviteReceived':
        return f.push({ kind: 'InviteReceived', cursor: cursor(), invite: e.payload });
    }
  };

  /** The stored entries with seq in (logSeq, before), in order. */
  const replayLog = async (before?: number) => {
    for (;;) {
      const rows = await inboxEntries(userId, logSeq, before, PAGE);
      for (const e of rows) await onEntry(e);
      if (rows.length < PAGE) return;
    }
  };

  /** Each room active since `since` (ms): its newest message, with the counts as they are now. */
  const snapshot = async (since: number) => {
    const active = [...rooms.values()].filter((r) => r.lastSeq > 0 && r.lastActivityAt > since).sort((a, b) => a.lastActivityAt - b.lastActivityAt);
    for (let i = 0; i < active.length; i += PAGE) {
      const page = active.slice(i, i + PAGE);
      const messages = await db.roomMessage.findMany({ where: { OR: page.map((r) => ({ roomId: r.roomId, seq: r.lastSeq })) } });
      const byRoom = new Map(messages.map((m) => [m.roomId, m]));
      const mentioned = await mentionedIn(userId, messages.map((m) => m.id));
      for (const r of page) {
        const m = byRoom.get(r.roomId);
        if (!m || rooms.get(r.roomId) !== r) continue;
        at = Math.max(at, r.lastActivityAt);
        pushMessage(r, messageToJson(m), mentioned.has(m.id));
      }
    }
  };

  const feed = openFeed<InboxItem>(app.pubsub, (control) => {
    f = control;
    f.listen('inbox:event', userId, (e) => {
      if (e.seq <= logSeq) return;
      // An entry lost on the way (or announced out of order): the missing ones come from the database first.
      if (e.seq > logSeq + 1) return f.later(() => replayLog(e.seq).then(() => onEntry(e)));
      f.later(() => onEntry(e));
    });
    return async () => {
      at = after?.at ?? Date.now();
      const user = await db.user.findUnique({ where: { id: userId }, select: { inboxSeq: true } });
      // A cursor ahead of the log (not this user's) resumes from the log's end.
      logSeq = Math.min(after?.logSeq ?? Infinity, user?.inboxSeq ?? 0);
      const mine = await memberRooms(userId);
      for (const r of mine) hearRoom(r.roomId);
      keep(await roomCounts(userId, mine.map((r) => r.roomId)));
      if (after) {
        await replayLog();
        await snapshot(after.at - RESUME_SKEW_MS);
      }
      started = true;
    };
  });

  /** Brings the rooms in line with the database (the guard's periodic re-check, and access changes). */
  const resync = () => {
    if (!started) return;
    f.later(async () => {
      const mine = await memberRooms(userId);
      const now = new Set(mine.map((r) => r.roomId));
      for (const id of rooms.keys()) if (!now.has(id)) rooms.delete(id);
      const missing = mine.filter((r) => !rooms.has(r.roomId)).map((r) => r.roomId);
      if (!missing.length) return;
      missing.forEach(hearRoom);
      keep(await roomCounts(userId, missing));
    });
  };

  return { feed, resync };
}
