import { defineModule } from '../../app-module.ts';
import { presencePermissions } from './presence.permissions.ts';
import { closePresence, presenceOf } from './presence.service.ts';
import { closeTyping } from './typing.service.ts';
import './presence.schema.ts';

/**
 * Presence follows WebSocket connections: people are ONLINE while connected. API keys have no presence, and
 * neither does a key acting as a member: an integration's connection is not the person being there, and
 * announcing it would tell the member's other orgs, which the key has nothing to do with.
 */
export const presenceModule = defineModule({
  name: 'presence',
  permissions: presencePermissions,
  topics: ['presence:changed'],
  // Presence is best effort: a failure (Redis down) is logged and never refuses or breaks a connection.
  async onSocketOpen(viewer, app, conn) {
    if (viewer.kind !== 'user' || viewer.via) return;
    await presenceOf(app)
      .connected(viewer.userId, conn.params.presence === 'AWAY')
      .catch((err) => app.log.warn({ err, userId: viewer.userId }, 'presence update failed'));
  },
  async onSocketClose(viewer, app) {
    if (viewer.kind !== 'user' || viewer.via) return;
    await presenceOf(app)
      .disconnected(viewer.userId)
      .catch((err) => app.log.warn({ err, userId: viewer.userId }, 'presence update failed'));
  },
  async stop(app) {
    closeTyping(app);
    await closePresence(app);
  },
});
