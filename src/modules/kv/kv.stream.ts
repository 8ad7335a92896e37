import type { AppServices } from '../../context.ts';
import { db } from '../../db.ts';
import { LiveQueue } from '../../live.ts';
import { eventsBetween } from './kv.service.ts';
import type { KvEvent } from './kv.topics.ts';

const PAGE = 500;

/** Stored events with version in (after, before), oldest first, paged. */
async function* stored(instanceId: string, after: number, before?: number): AsyncGenerator<KvEvent> {
  for (let from = after; ; ) {
    const rows = await eventsBetween(instanceId, from, before, PAGE);
    yield* rows;
    if (rows.length < PAGE) return;
    from = rows[rows.length - 1].version;
  }
}

/**
 * An instance's changes, as roomEventStream does for a room: it listens FIRST (buffering), then
 * replays the event log after `afterVersion`, then hands out buffered and live events, skipping any
 * version already handed out. Versions are gap-free, so a live event whose version jumps ahead (lost in
 * Redis, or two instances' events arriving out of order) is preceded by the missing ones read from the
 * log, where they are already committed (store-then-publish). Without `afterVersion`, the stream starts
 * after the instance's current version.
 */
export async function* kvEventStream(app: AppServices, instanceId: string, afterVersion?: number | null): AsyncGenerator<KvEvent> {
  const queue = new LiveQueue<KvEvent>();
  queue.attach(app.pubsub.subscribe('kv:event', instanceId), (e) => queue.push(e));
  try {
    let last: number;
    if (afterVersion != null) {
      last = afterVersion;
      for await (const e of stored(instanceId, afterVersion)) {
        last = e.version;
        yield e;
      }
    } else {
      last = (await db.kvInstance.findUniqueOrThrow({ where: { id: instanceId }, select: { lastVersion: true } })).lastVersion;
    }
    for (let e = await queue.shift(); e; e = await queue.shift()) {
      if (e.version <= last) continue;
      if (e.version > last + 1) {
        for await (const missed of stored(instanceId, last, e.version)) yield missed;
      }
      last = e.version;
      yield e;
    }
  } finally {
    await queue.close();
  }
}
