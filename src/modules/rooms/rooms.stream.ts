import type { AppServices } from '../../context.ts';
import { db } from '../../db.ts';
import { LiveQueue } from '../../live.ts';
import { messageToJson, type RoomEvent } from './rooms.topics.ts';

const PAGE = 500;

/** Stored messages with seq in (after, before), oldest first, as MessageAdded events. */
async function* stored(roomId: string, after: number, before?: number): AsyncGenerator<RoomEvent> {
  for (let from = after; ; ) {
    const rows = await db.roomMessage.findMany({ where: { roomId, seq: { gt: from, ...(before !== undefined ? { lt: before } : {}) } }, orderBy: { seq: 'asc' }, take: PAGE });
    for (const m of rows) yield { kind: 'MessageAdded', message: messageToJson(m) };
    if (rows.length < PAGE) return;
    from = rows[rows.length - 1].seq;
  }
}

/**
 * A member's view of a room's events. It listens FIRST (buffering), then replays stored messages
 * after `afterSeq` from the database, then hands out buffered and live events, skipping any seq
 * already handed out. Seqs are gap-free, so a live message whose seq jumps ahead (an event lost in
 * Redis, or two instances' messages arriving out of order) is preceded by the missing ones read from
 * the database, where they are already committed (store-then-send). Without `afterSeq`, the stream
 * starts after the room's last seq at the time of subscribing.
 *
 * It ends when the viewer leaves or is removed from the room or its org, heard as an event; an event lost on
 * the way is covered by the periodic re-check that authorizedSubscribe puts on every subscription.
 */
export async function* roomEventStream(app: AppServices, room: { id: string; orgId: string }, userId: string, afterSeq?: number | null) {
  const queue = new LiveQueue<RoomEvent>();
  queue.attach(app.pubsub.subscribe('room:event', room.id), (e) => queue.push(e));
  queue.attach(app.pubsub.subscribe('org:membershipChanged', room.orgId), (e) => {
    if (e.userId === userId && e.role === null) queue.revoke();
  });
  try {
    let last: number;
    if (afterSeq != null) {
      last = afterSeq;
      for await (const e of stored(room.id, afterSeq)) {
        if (e.kind === 'MessageAdded') last = e.message.seq;
        yield e;
      }
    } else {
      last = (await db.room.findUniqueOrThrow({ where: { id: room.id }, select: { lastSeq: true } })).lastSeq;
    }
    for (let e = await queue.shift(); e; e = await queue.shift()) {
      if (e.kind === 'MessageAdded') {
        const seq = e.message.seq;
        if (seq <= last) continue;
        if (seq > last + 1) {
          for await (const missed of stored(room.id, last, seq)) yield missed;
        }
        last = seq;
      }
      if (e.kind === 'Typing' && e.userId === userId) continue;
      yield e;
      if (e.kind === 'MemberLeft' && e.userId === userId) return;
    }
  } finally {
    await queue.close();
  }
}
