import { defineModule } from '../../app-module.ts';
import { threadsPermissions } from './threads.permissions.ts';
import './threads.schema.ts';
import './thread-messages.schema.ts';
import './relations.schema.ts';
import './contexts.schema.ts';

/** Threads: their messages, relations and context trees. */
export const threadsModule = defineModule({
  name: 'threads',
  permissions: threadsPermissions,
  topics: ['project:accessChanged'],
});
