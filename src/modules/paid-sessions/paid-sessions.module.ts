import { defineModule } from '../../app-module.ts';
import { sessionTokenCredentials } from './paid-sessions.credentials.ts';
import { paidSessionsPermissions } from './paid-sessions.permissions.ts';
import { prepaidSessionHooks } from './session-chat.service.ts';
import './paid-sessions.schema.ts';

/**
 * Prepaid sessions: paid for with an invoice, used with a session token (its credential resolver). Their
 * events go on the chat module's `session:event` topic.
 */
export const paidSessionsModule = defineModule({
  name: 'paid-sessions',
  permissions: paidSessionsPermissions,
  credentials: [sessionTokenCredentials],
  // Thread turns whose current session is prepaid spend from it.
  chat: { sessionHooks: prepaidSessionHooks },
});
