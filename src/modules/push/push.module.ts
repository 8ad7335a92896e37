import { defineModule } from '../../app-module.ts';
import { pushPermissions } from './push.permissions.ts';
import { startPush, stopPush } from './push.service.ts';
import './push.schema.ts';

/**
 * Web Push: browsers register their push subscriptions; mentions, DMs and notifications are pushed to users
 * with no live socket (push.service.ts). Start loads the VAPID keys (generated into the data directory on first
 * start unless configured); stop drops queued pushes and aborts those being sent.
 */
export const pushModule = defineModule({
  name: 'push',
  permissions: pushPermissions,
  start: (app) => startPush(app),
  stop: (app, { deadline }) => stopPush(app, deadline),
});
