import type { AppModule } from '../index.ts';
import { closePresence, presenceOf } from './presence.service.ts';
import { closeTyping } from './typing.service.ts';

/** Presence follows WebSocket connections: people are ONLINE while connected (API keys have no presence). */
export const presenceModule: AppModule = {
  name: 'presence',
  async onSocketOpen(viewer, app, conn) {
    if (viewer.kind === 'user') await presenceOf(app).connected(viewer.userId, conn.params.presence === 'AWAY');
  },
  async onSocketClose(viewer, app) {
    if (viewer.kind === 'user') await presenceOf(app).disconnected(viewer.userId);
  },
  async stop(app) {
    closeTyping(app);
    await closePresence(app);
  },
};
