import type { AppServices } from './context.ts';

/**
 * A module's background pass every `intervalMs(app)` milliseconds (the attachment sweep, retention): one pass at a
 * time per app (a slow pass is not overlapped by the next tick), a failure logged and retried at the next tick,
 * and `stop` waiting for the pass under way. Use the two functions as the module's start and stop hooks.
 */
export function periodicPass(
  what: string,
  intervalMs: (app: AppServices) => number,
  pass: (app: AppServices) => Promise<unknown>,
): { start(app: AppServices): void; stop(app: AppServices): Promise<void> } {
  const timers = new WeakMap<AppServices, NodeJS.Timeout>();
  const running = new WeakMap<AppServices, Promise<unknown>>();
  return {
    start(app) {
      const tick = () => {
        if (running.has(app)) return;
        const p = pass(app)
          .catch((err) => app.log.error({ err }, `${what} failed`))
          .finally(() => running.delete(app));
        running.set(app, p);
      };
      const timer = setInterval(tick, intervalMs(app));
      timer.unref();
      timers.set(app, timer);
    },
    async stop(app) {
      clearInterval(timers.get(app));
      timers.delete(app);
      await running.get(app);
    },
  };
}
