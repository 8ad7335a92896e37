import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { openFeed, type Feed, type FeedControl } from '../../live/feed.ts';
import { messageToJson, type RoomEvent } from './rooms.topics.ts';

const PAGE = 500;

/** Pushes the stored messages with seq in (after, before), oldest first, as MessageAdded events; returns the last seq pushed. */
async function replay(f: FeedControl<RoomEvent>, roomId: string, after: number, before?: number): Promise<number> {
  let last = after;
  for (;;) {
    const rows = await db.roomMessage.findMany({ where: { roomId, seq: { gt: last, ...(before !== undefined ? { lt: before } : {}) } }, orderBy: { seq: 'asc' }, take: PAGE });
    for (const m of rows) f.push({ kind: 'MessageAdded', message: messageToJson(m) });
    if (rows.length) last = rows[rows.length - 1].seq;
    if (rows.length < PAGE) return last;
  }
}

/**
 * A member's view of a room's events. It listens FIRST, then replays stored messages after `afterSeq` from
 * the database, then handles the events heard meanwhile and the live ones, skipping any seq already handed
 * out. Seqs are gap-free, so a live message whose seq jumps ahead (an event lost in Redis, or two instances'
 * messages arriving out of order) is preceded by the missing ones read from the database, where they are
 * already committed (store-then-send). Without `afterSeq`, the feed starts after the room's last seq at the
 * time of subscribing.
 *
 * A resume from below the room's prunedThroughSeq starts with HistoryPruned (the retention worker deleted those
 * seqs); the replay then simply finds the first stored message after it.
 *
 * It ends when the viewer leaves or is removed from the room (its own MemberLeft is the last event) or from
 * the org, heard as an event; an event lost on the way is covered by the periodic re-check of every feed.
 */
export function roomEventFeed(app: AppServices, roomId: string, userId: string, afterSeq?: number | null): Feed<RoomEvent> {
  let last = 0;
  return openFeed<RoomEvent>(app.pubsub, (f) => {
    f.listen('room:event', roomId, (e) => {
      if (e.kind === 'MessageAdded') {
        const seq = e.message.seq;
        if (seq <= last) return;
        if (seq > last + 1) {
          const from = last;
          last = seq;
          return f.later(async () => {
            await replay(f, roomId, from, seq);
            f.push(e);
          });
        }
        last = seq;
      }
      if (e.kind === 'Typing' && e.userId === userId) return;
      f.push(e);
      if ((e.kind === 'MemberLeft' && e.userId === userId) || e.kind === 'RoomDeleted') f.end();
    });
    return async () => {
      // Read after listening to the room: a message committed meanwhile is either at or below lastSeq, or heard.
      const room = await db.room.findUniqueOrThrow({ where: { id: roomId }, select: { orgId: true, lastSeq: true, prunedThroughSeq: true } });
      // Removal from the org ends the feed at once (the access guard would, after its re-check). Before this
      // point a removal is covered by the guard, which hears the same change as an access event.
      f.listen('org:membershipChanged', room.orgId, (e) => {
        if (e.userId === userId && e.role === null) f.stop();
      });
      // Seqs at or below prunedThroughSeq are gone (retention): the client is told before what is still stored.
      if (afterSeq != null && afterSeq < room.prunedThroughSeq) f.push({ kind: 'HistoryPruned', throughSeq: room.prunedThroughSeq });
      last = afterSeq != null ? await replay(f, roomId, afterSeq) : room.lastSeq;
    };
  });
}
