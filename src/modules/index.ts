import { actingAllowlist, type DomainPermissions } from '../auth/permissions.ts';
import type { CredentialResolver } from '../context.ts';
import type { AppModule } from '../app-module.ts';
import { apiKeyCredentials } from './apikeys/apikeys.credentials.ts';
import { apiKeysPermissions } from './apikeys/apikeys.permissions.ts';
import { chatModule } from './chat/chat.module.ts';
import { chatPermissions } from './chat/chat.permissions.ts';
import { invoicesPermissions } from './invoices/invoices.permissions.ts';
import { kvPermissions } from './kv/kv.permissions.ts';
import { lightningModule } from './lightning/lightning.module.ts';
import { notificationsPermissions } from './notifications/notifications.permissions.ts';
import { openaiModule } from './openai/openai.routes.ts';
import { orgsPermissions } from './orgs/orgs.permissions.ts';
import { sessionTokenCredentials } from './paid-sessions/paid-sessions.credentials.ts';
import { paidSessionsPermissions } from './paid-sessions/paid-sessions.permissions.ts';
import { presenceModule } from './presence/presence.module.ts';
import { presencePermissions } from './presence/presence.permissions.ts';
import { projectsPermissions } from './projects/projects.permissions.ts';
import { providerKeysPermissions } from './providerkeys/providerkeys.permissions.ts';
import { roomsPermissions } from './rooms/rooms.permissions.ts';
import { searchModule } from './search/search.module.ts';
import { billingModule } from './billing/billing.module.ts';
import { billingPermissions } from './billing/billing.permissions.ts';
import { searchPermissions } from './search/search.permissions.ts';
import { threadsPermissions } from './threads/threads.permissions.ts';
import { usagePermissions } from './usage/usage.permissions.ts';
import { usersPermissions } from './users/users.permissions.ts';
import { webhooksModule } from './webhooks/webhooks.module.ts';
import { roomsModule } from './rooms/rooms.module.ts';
import { webhooksPermissions } from './webhooks/webhooks.permissions.ts';
import { webModule } from './web/web.module.ts';

export type { AppModule, Route, SocketInfo } from '../app-module.ts';
/** The whole schema: every domain's types and root fields (see ./schema.ts). */
export { schema } from './schema.ts';

/**
 * Every module with hooks, in start order (stopped in reverse). Webhooks come first so that they stop
 * last: events other modules publish while stopping are still written as deliveries.
 */
export const appModules: AppModule[] = [roomsModule, webhooksModule, chatModule, presenceModule, lightningModule, openaiModule, searchModule, billingModule, webModule];

/** Each domain's part of the one shield tree (merged by auth/permissions.ts, `fallbackRule: deny`). */
export const domainPermissions: DomainPermissions[] = [
  usersPermissions,
  orgsPermissions,
  apiKeysPermissions,
  projectsPermissions,
  threadsPermissions,
  chatPermissions,
  providerKeysPermissions,
  usagePermissions,
  searchPermissions,
  invoicesPermissions,
  paidSessionsPermissions,
  roomsPermissions,
  presencePermissions,
  notificationsPermissions,
  webhooksPermissions,
  kvPermissions,
  billingPermissions,
];

/**
 * What an org's ACT_AS API key may select as a member (X-Acting-User), `Type.field` or `Type.*`, from
 * each domain's `acting` entries: the rooms (reading, sending, editing, reactions, read receipts,
 * membership, roomEvents, node(id) of rooms), typing, and the people in rooms' id and name.
 */
export const actingFields: ReadonlySet<string> = actingAllowlist(domainPermissions);

/** Opaque tokens the domains issue, besides the JWT access token that auth/ knows itself. */
export const credentialResolvers: CredentialResolver[] = [apiKeyCredentials, sessionTokenCredentials];
export { renderLocalGraphiQL } from './web/graphiql.ts';
