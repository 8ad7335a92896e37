import { defineModule } from '../../app-module.ts';
import { accountsPermissions } from './accounts.permissions.ts';
import { exportRoutes } from './accounts.export.ts';
import { stopMail } from './accounts.mail.ts';
import { backgroundDone } from './accounts.service.ts';
import './accounts.schema.ts';

/**
 * Accounts: profile and avatar, password change and reset by mail, email verification, the data export's link
 * and download route (/exports/...), and account deletion. Stopping waits for mails under way.
 */
export const accountsModule = defineModule({
  name: 'accounts',
  permissions: accountsPermissions,
  routes: exportRoutes,
  async stop(app) {
    await backgroundDone(app);
    await stopMail(app);
  },
});
