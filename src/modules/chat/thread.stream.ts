import { withFreshLoaders, type Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { openFeed, type Feed, type FeedControl } from '../../live/feed.ts';
import { checkThread, loadThreadRow } from '../threads/threads.access.ts';
import type { ThreadEvent } from './chat.topics.ts';

const PAGE = 500;

/** Pushes the thread's stored messages with seq in (after, before), oldest first, as ThreadMessageAdded; returns the last seq pushed. */
async function replay(f: FeedControl<ThreadEvent>, threadId: string, after: number, before?: number): Promise<number> {
  let last = after;
  for (;;) {
    const rows = await db.message.findMany({
      where: { threadId, seq: { gt: last, ...(before !== undefined ? { lt: before } : {}) } },
      orderBy: { seq: 'asc' },
      select: { id: true, seq: true },
      take: PAGE,
    });
    for (const m of rows) f.push({ type: 'ThreadMessageAdded', messageId: m.id, seq: m.seq });
    if (rows.length) last = rows[rows.length - 1].seq!;
    if (rows.length < PAGE) return last;
  }
}

/**
 * A reader's view of a thread's events, built like roomEvents: it listens FIRST, then replays the stored
 * messages after `afterSeq` from the database, then handles the events heard meanwhile and the live ones,
 * skipping any message seq already handed out. Seqs are gap-free (the thread's row allocates them in the storing
 * transaction, and the message is announced after its commit), so a live message whose seq jumps ahead (an event
 * lost in Redis, two instances' messages arriving out of order) is preceded by the missing ones read from the
 * database. Without `afterSeq`, the feed starts after the thread's last seq at the time of subscribing.
 *
 * It ends after ThreadDeleted, and when the viewer can no longer read the thread: a share or the org-wide
 * access of its project is removed, or the viewer leaves the org or changes role there. Those are announced
 * without saying who lost what, so the feed re-checks access in the database (fresh, not from the loaders cached
 * when it started) and stops if it is gone.
 */
export async function threadEventFeed(ctx: Context, threadId: string, afterSeq?: number | null): Promise<Feed<ThreadEvent>> {
  const row = await loadThreadRow(ctx, threadId);
  const viewer = ctx.viewer;
  let last = 0;
  return openFeed<ThreadEvent>(ctx.app.pubsub, (f) => {
    let checking: Promise<void> | undefined;
    const recheck = () => {
      checking ??= checkThread(withFreshLoaders(ctx), threadId, 'READ')
        .then((ok) => (ok === true ? undefined : f.stop()), () => undefined)
        .finally(() => (checking = undefined));
    };
    f.listen('thread:event', threadId, (e) => {
      if (e.type === 'ThreadMessageAdded' && e.seq != null) {
        const seq = e.seq;
        if (seq <= last) return;
        if (seq > last + 1) {
          const from = last;
          last = seq;
          return f.later(async () => {
            await replay(f, threadId, from, seq);
            f.push(e);
          });
        }
        last = seq;
      }
      f.push(e);
      if (e.type === 'ThreadDeleted') f.end();
    });
    if (row?.projectId) f.listen('project:accessChanged', row.projectId, recheck);
    if (row && viewer.kind === 'user') f.listen('org:membershipChanged', row.orgId, (e) => e.userId === viewer.userId && recheck());
    return async () => {
      // Read after listening: a message committed meanwhile is either counted here, or heard.
      const thread = await db.thread.findUnique({ where: { id: threadId }, select: { messageCount: true } });
      if (!thread) {
        // Deleted between the access check and now: its ThreadDeleted may have gone by unheard.
        f.push({ type: 'ThreadDeleted', threadId });
        return f.end();
      }
      last = afterSeq != null ? await replay(f, threadId, afterSeq) : thread.messageCount;
    };
  });
}
