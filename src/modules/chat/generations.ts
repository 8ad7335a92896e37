import type { AppServices } from '../../context.ts';

interface Running {
  controller: AbortController;
  /** Settles when the generation has stored its final state. */
  done: Promise<unknown>;
}

/** Generations running in this process, per app (tests run several apps in one process). */
const registries = new WeakMap<AppServices, Map<string, Running>>();

function registry(app: AppServices): Map<string, Running> {
  let map = registries.get(app);
  if (!map) registries.set(app, (map = new Map()));
  return map;
}

/** Tracks a generation so cancelGeneration can abort it; untracked when `done` settles. */
export function trackGeneration(app: AppServices, messageId: string, controller: AbortController, done: Promise<unknown>) {
  const map = registry(app);
  map.set(messageId, { controller, done });
  void done.finally(() => map.delete(messageId)).catch(() => {});
}

/** Aborts a generation of this process; resolves when its final state is stored. False if not here. */
export async function cancelLocal(app: AppServices, messageId: string): Promise<boolean> {
  const running = registry(app).get(messageId);
  if (!running) return false;
  running.controller.abort(new CancelledError());
  await running.done.catch(() => {});
  return true;
}

/**
 * Shutdown: lets this app's running generations finish until `deadline`, then aborts those left (they
 * store themselves as FAILED) and waits until each has stored its final state, so that none stays
 * STREAMING in the database after the process is gone. A turn whose client went away is no longer
 * held by a connection, so the HTTP drain alone would not wait for it.
 */
export async function drainGenerations(app: AppServices, deadline: number): Promise<void> {
  const running = () => [...registry(app).values()].map((r) => r.done.catch(() => {}));
  if (!registry(app).size) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([Promise.all(running()), late]);
  clearTimeout(timer);
  for (const r of registry(app).values()) r.controller.abort(new Error('The server shut down before the reply ended'));
  await Promise.all(running());
}

/** The abort reason for cancelGeneration, told apart from a provider failure. */
export class CancelledError extends Error {
  constructor() {
    super('Generation cancelled');
    this.name = 'CancelledError';
  }
}

const UNSUBSCRIBE_GRACE_MS = 50;

/**
 * Listens for cancels published by other instances (with Redis); in one process cancelLocal finds
 * the generation directly. Returns a stop function.
 */
export function listenForCancels(app: AppServices): () => Promise<void> {
  const cancels = new Set<Promise<unknown>>();
  const stop = app.pubsub.listen('chat:cancel', ({ messageId }) => {
    const p = cancelLocal(app, messageId).catch((err: unknown) => app.log.warn({ err }, 'cancel failed'));
    cancels.add(p);
    void p.finally(() => cancels.delete(p));
  });
  // Awaited before the pub/sub closes. The Redis event target sends UNSUBSCRIBE without awaiting it
  // (a moment after the listener goes); closing the connection first would reject it unhandled.
  return async () => {
    stop();
    await Promise.allSettled(cancels);
    await new Promise((r) => setTimeout(r, UNSUBSCRIBE_GRACE_MS));
  };
}
