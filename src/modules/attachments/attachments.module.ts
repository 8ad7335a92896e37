import { defineModule } from '../../app-module.ts';
import type { AppServices } from '../../context.ts';
import { attachmentsPermissions } from './attachments.permissions.ts';
import { attachmentRoutes } from './attachments.routes.ts';
import { sweepAttachments } from './attachments.service.ts';
import './attachments.schema.ts';

const timers = new WeakMap<AppServices, NodeJS.Timeout>();
const running = new WeakMap<AppServices, Promise<unknown>>();

/**
 * Attachments: createUpload, the Attachment node, the attachments of room and thread messages, local
 * storage's upload and download routes, and the worker that deletes expired uploads and orphaned files
 * every storage.sweep_interval_ms.
 */
export const attachmentsModule = defineModule({
  name: 'attachments',
  permissions: attachmentsPermissions,
  routes: attachmentRoutes(),
  start(app) {
    const pass = () => {
      if (running.has(app)) return;
      const p = sweepAttachments(app)
        .then((n) => n && app.log.info({ removed: n }, 'attachments swept'))
        .catch((err) => app.log.warn({ err }, 'attachment sweep failed'))
        .finally(() => running.delete(app));
      running.set(app, p);
    };
    const timer = setInterval(pass, app.config.storage.sweepIntervalMs);
    timer.unref();
    timers.set(app, timer);
  },
  async stop(app) {
    clearInterval(timers.get(app));
    timers.delete(app);
    await running.get(app);
  },
});
