import { defineModule } from '../../app-module.ts';
import { periodicPass } from '../../periodic.ts';
import { attachmentsPermissions } from './attachments.permissions.ts';
import { attachmentRoutes } from './attachments.routes.ts';
import { sweepAttachments } from './attachments.service.ts';
import './attachments.schema.ts';

const sweep = periodicPass(
  'attachment sweep',
  (app) => app.config.storage.sweepIntervalMs,
  async (app) => {
    const n = await sweepAttachments(app);
    if (n) app.log.info({ removed: n }, 'attachments swept');
  },
);

/**
 * Attachments: createUpload, the Attachment node, the attachments of room and thread messages, local
 * storage's upload and download routes, and the worker that deletes expired uploads and orphaned files
 * every storage.sweep_interval_ms.
 */
export const attachmentsModule = defineModule({
  name: 'attachments',
  permissions: attachmentsPermissions,
  routes: attachmentRoutes(),
  start: sweep.start,
  stop: sweep.stop,
});
