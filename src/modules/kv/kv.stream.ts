import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { openFeed, type Feed, type FeedControl } from '../../live/feed.ts';
import { eventsBetween } from './kv.service.ts';
import type { KvEvent } from './kv.topics.ts';

const PAGE = 500;

/** Pushes the stored events with version in (after, before), oldest first, paged; returns the last version pushed. */
async function replay(f: FeedControl<KvEvent>, instanceId: string, after: number, before?: number): Promise<number> {
  let last = after;
  for (;;) {
    const rows = await eventsBetween(instanceId, last, before, PAGE);
    for (const e of rows) f.push(e);
    if (rows.length) last = rows[rows.length - 1].version;
    if (rows.length < PAGE) return last;
  }
}

/**
 * An instance's changes, as roomEventFeed does for a room: it listens FIRST, then replays the event log after
 * `afterVersion`, then handles the events heard meanwhile and the live ones, skipping any version already
 * handed out. Versions are gap-free, so a live event whose version jumps ahead (lost in Redis, or two
 * instances' events arriving out of order) is preceded by the missing ones read from the log, where they are
 * already committed (store-then-publish). Without `afterVersion`, the feed starts after the instance's
 * current version.
 */
export function kvEventFeed(app: AppServices, instanceId: string, afterVersion?: number | null): Feed<KvEvent> {
  let last = 0;
  return openFeed<KvEvent>(app.pubsub, (f) => {
    f.listen('kv:event', instanceId, (e) => {
      if (e.version <= last) return;
      if (e.version > last + 1) {
        const from = last;
        last = e.version;
        return f.later(async () => {
          await replay(f, instanceId, from, e.version);
          f.push(e);
        });
      }
      last = e.version;
      f.push(e);
    });
    return async () => {
      if (afterVersion != null) last = await replay(f, instanceId, afterVersion);
      else last = (await db.kvInstance.findUniqueOrThrow({ where: { id: instanceId }, select: { lastVersion: true } })).lastVersion;
    };
  });
}
