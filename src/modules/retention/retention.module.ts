import { defineModule } from '../../app-module.ts';
import type { AppServices } from '../../context.ts';
import { runRetentionPass } from './retention.service.ts';
import './retention.schema.ts';

const timers = new WeakMap<AppServices, NodeJS.Timeout>();
const running = new WeakMap<AppServices, Promise<unknown>>();

/**
 * Retention of room messages: every `retention.interval_ms` a pass deletes the messages older than each org's
 * effective retention (Org.retentionDays, else `retention.room_messages_days`). One pass at a time per instance;
 * instances sharing a database may overlap safely (retention.service.ts).
 */
export const retentionModule = defineModule({
  name: 'retention',
  start(app) {
    const pass = () => {
      if (running.has(app)) return;
      const p = runRetentionPass(app)
        .catch((err) => app.log.error({ err }, 'retention pass failed'))
        .finally(() => running.delete(app));
      running.set(app, p);
    };
    const timer = setInterval(pass, app.config.retention.intervalMs);
    timer.unref();
    timers.set(app, timer);
  },
  async stop(app) {
    clearInterval(timers.get(app));
    timers.delete(app);
    await running.get(app);
  },
});
