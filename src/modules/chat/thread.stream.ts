import { withFreshLoaders, type Context } from '../../context.ts';
import { LiveQueue } from '../../live.ts';
import { checkThread, loadThreadRow } from '../threads/threads.access.ts';
import type { ChatEvent } from './chat.topics.ts';

/**
 * A reader's view of a thread's chat events. Like roomEvents, it ends when the viewer can no longer
 * read the thread: the thread is deleted, a share or the org-wide access of its project is removed,
 * or the viewer leaves the org or changes role there. Each of those is announced without saying who
 * lost what, so the stream re-checks access in the database (fresh, not from the loaders cached when
 * it started) and ends if it is gone.
 */
export async function* threadEventStream(ctx: Context, threadId: string): AsyncGenerator<ChatEvent> {
  const row = await loadThreadRow(ctx, threadId);
  const queue = new LiveQueue<ChatEvent>();
  let checking: Promise<void> | undefined;
  const recheck = () => {
    checking ??= checkThread(withFreshLoaders(ctx), threadId, 'READ')
      .then((ok) => (ok === true ? undefined : queue.revoke()), () => undefined)
      .finally(() => (checking = undefined));
  };
  const { pubsub } = ctx.app;
  queue.attach(pubsub.subscribe('thread:event', threadId), (e) => queue.push(e));
  queue.attach(pubsub.subscribe('thread:accessChanged', threadId), (e) => (e.deleted ? queue.revoke() : recheck()));
  if (row?.projectId) queue.attach(pubsub.subscribe('project:accessChanged', row.projectId), recheck);
  const viewer = ctx.viewer;
  if (row && viewer.kind === 'user') {
    queue.attach(pubsub.subscribe('org:membershipChanged', row.orgId), (e) => e.userId === viewer.userId && recheck());
  }
  try {
    for (let e = await queue.shift(); e; e = await queue.shift()) yield e;
  } finally {
    await queue.close();
  }
}
