import { withFreshLoaders, type Context } from '../../context.ts';
import { openFeed, type Feed } from '../../live/feed.ts';
import { checkThread, loadThreadRow } from '../threads/threads.access.ts';
import type { ChatEvent } from './chat.topics.ts';

/**
 * A reader's view of a thread's chat events. Like roomEvents, it ends when the viewer can no longer
 * read the thread: the thread is deleted, a share or the org-wide access of its project is removed,
 * or the viewer leaves the org or changes role there. Each of those is announced without saying who
 * lost what, so the feed re-checks access in the database (fresh, not from the loaders cached when
 * it started) and stops if it is gone.
 */
export async function threadEventFeed(ctx: Context, threadId: string): Promise<Feed<ChatEvent>> {
  const row = await loadThreadRow(ctx, threadId);
  const viewer = ctx.viewer;
  return openFeed<ChatEvent>(ctx.app.pubsub, (f) => {
    let checking: Promise<void> | undefined;
    const recheck = () => {
      checking ??= checkThread(withFreshLoaders(ctx), threadId, 'READ')
        .then((ok) => (ok === true ? undefined : f.stop()), () => undefined)
        .finally(() => (checking = undefined));
    };
    f.listen('thread:event', threadId, (e) => f.push(e));
    f.listen('thread:accessChanged', threadId, (e) => (e.deleted ? f.stop() : recheck()));
    if (row?.projectId) f.listen('project:accessChanged', row.projectId, recheck);
    if (row && viewer.kind === 'user') f.listen('org:membershipChanged', row.orgId, (e) => e.userId === viewer.userId && recheck());
  });
}
