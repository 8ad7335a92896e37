import type { AppServices } from '../../context.ts';
import { defineModule } from '../../app-module.ts';
import { chatPermissions } from './chat.permissions.ts';
import { drainGenerations, listenForCancels } from './generations.ts';
import './chat.schema.ts';

const listeners = new Map<AppServices, () => Promise<void>>();

/**
 * Model turns in threads and sessions. Hears cancels for generations of this instance asked on another
 * (with Redis); on stop, drains them.
 */
export const chatModule = defineModule({
  name: 'chat',
  permissions: chatPermissions,
  topics: ['thread:event', 'session:event', 'chat:cancel'],
  start(app) {
    listeners.set(app, listenForCancels(app));
  },
  async stop(app, { deadline }) {
    await drainGenerations(app, deadline);
    const stop = listeners.get(app);
    listeners.delete(app);
    await stop?.();
  },
});
