import { assembleModules } from '../app-module.ts';
import type { Topics } from '../live/bus.ts';
import { buildSchema } from '../schema/index.ts';
import { accountsModule } from './accounts/accounts.module.ts';
import { apiKeysModule } from './apikeys/apikeys.module.ts';
import { attachmentsModule } from './attachments/attachments.module.ts';
import { auditModule } from './audit/audit.module.ts';
import { billingModule } from './billing/billing.module.ts';
import { chatModule } from './chat/chat.module.ts';
import { registerChatExtensions } from './chat/hooks.ts';
import { inboxModule } from './inbox/inbox.module.ts';
import { invoicesModule } from './invoices/invoices.module.ts';
import { kvModule } from './kv/kv.module.ts';
import { moderationModule } from './moderation/moderation.module.ts';
import { lightningModule } from './lightning/lightning.module.ts';
import { notificationsModule } from './notifications/notifications.module.ts';
import { openaiModule } from './openai/openai.module.ts';
import { orgsModule } from './orgs/orgs.module.ts';
import { paidSessionsModule } from './paid-sessions/paid-sessions.module.ts';
import { presenceModule } from './presence/presence.module.ts';
import { projectsModule } from './projects/projects.module.ts';
import { providerKeysModule } from './providerkeys/providerkeys.module.ts';
import { pushModule } from './push/push.module.ts';
import { retentionModule } from './retention/retention.module.ts';
import { roomsModule } from './rooms/rooms.module.ts';
import { searchModule } from './search/search.module.ts';
import { threadsModule } from './threads/threads.module.ts';
import { usageModule } from './usage/usage.module.ts';
import { usersModule } from './users/users.module.ts';
import { webModule } from './web/web.module.ts';
import { webhooksModule } from './webhooks/webhooks.module.ts';

/**
 * Every module of the app, each defined once in its `<domain>.module.ts` (schema, permissions, credentials,
 * topics, routes, hooks: see src/app-module.ts). Only this list imports the module files, and a module file
 * imports its `*.schema.ts` files: what is not listed has no rules, no routes, no hooks, and no schema of its own.
 *
 * The order is the start order (stopped in reverse). Webhooks come first so that they stop last: events other
 * modules publish while stopping are still written as deliveries. Guards of a node type that two modules
 * share (Session: chat, then paid-sessions) are tried in this order too.
 */
const modules = [
  webhooksModule,
  usersModule,
  accountsModule,
  orgsModule,
  auditModule,
  apiKeysModule,
  projectsModule,
  threadsModule,
  chatModule,
  providerKeysModule,
  usageModule,
  searchModule,
  invoicesModule,
  lightningModule,
  paidSessionsModule,
  roomsModule,
  moderationModule,
  attachmentsModule,
  retentionModule,
  presenceModule,
  // After presence, so that it stops first: pushes ask presence who is connected.
  pushModule,
  notificationsModule,
  inboxModule,
  kvModule,
  billingModule,
  openaiModule,
  webModule,
];

/** What modules give chat turns (`chat`: session hooks, system prompt sources, thread tools). */
registerChatExtensions(modules);

export const { modules: appModules, permissions: domainPermissions, credentials: credentialResolvers, actingFields, unverifiedFields } = assembleModules(modules);

/** The whole schema: what the listed modules' `*.schema.ts` files put on the builder, sorted so the printed SDL is stable. */
export const schema = buildSchema();

/** GraphiQL's page, with its assets served by the web module. */
export { renderLocalGraphiQL } from './web/graphiql.ts';

/**
 * Every topic a `*.topics.ts` declares has an owning module (its `topics`): this fails to compile, naming the
 * topic, when one has none. `access:changed` belongs to the live layer (src/live/access.ts).
 */
type Owned<U extends never> = U;
type ModuleTopics = (typeof modules)[number] extends infer M ? (M extends { topics?: readonly (infer T)[] } ? T : never) : never;
export type TopicsWithoutOwner = Owned<Exclude<keyof Topics, ModuleTopics | 'access:changed'>>;
