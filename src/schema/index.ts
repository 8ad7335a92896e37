import { lexicographicSortSchema } from 'graphql';
import './scalars.ts';
import '../modules/users/users.schema.ts';
import '../modules/orgs/orgs.schema.ts';
import '../modules/apikeys/apikeys.schema.ts';
import '../modules/invoices/invoices.schema.ts';
import '../modules/paid-sessions/paid-sessions.schema.ts';
import '../modules/rooms/rooms.schema.ts';
import '../modules/rooms/members.schema.ts';
import '../modules/rooms/messages.schema.ts';
import '../modules/rooms/events.schema.ts';
import '../modules/presence/presence.schema.ts';
import '../modules/notifications/notifications.schema.ts';
import '../modules/projects/projects.schema.ts';
import '../modules/threads/threads.schema.ts';
import '../modules/threads/relations.schema.ts';
import '../modules/threads/contexts.schema.ts';
import '../modules/chat/chat.schema.ts';
import '../modules/providerkeys/providerkeys.schema.ts';
import '../modules/usage/usage.schema.ts';
import '../modules/search/search.schema.ts';
import { builder } from './builder.ts';

/** The whole schema, sorted so that the printed SDL is stable. */
export const schema = lexicographicSortSchema(builder.toSchema());
