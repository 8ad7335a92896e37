import type { AppModule } from '../index.ts';
import { closePresence, presenceOf } from './presence.service.ts';
import { closeTyping } from './typing.service.ts';

/** Presence follows WebSocket connections: people are ONLINE while connected (API keys have no presence). */
export const presenceModule: AppModule = {
  name: 'presence',
  // Presence is best effort: a failure (Redis down) is logged and never refuses or breaks a connection.
  async onSocketOpen(viewer, app, conn) {
    if (viewer.kind !== 'user') return;
    await presenceOf(app)
      .connected(viewer.userId, conn.params.presence === 'AWAY')
      .catch((err) => app.log.warn({ err, userId: viewer.userId }, 'presence update failed'));
  },
  async onSocketClose(viewer, app) {
    if (viewer.kind !== 'user') return;
    await presenceOf(app)
      .disconnected(viewer.userId)
      .catch((err) => app.log.warn({ err, userId: viewer.userId }, 'presence update failed'));
  },
  async stop(app) {
    closeTyping(app);
    await closePresence(app);
  },
};
