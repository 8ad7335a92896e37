import { defineModule } from '../../app-module.ts';
import { inboxPermissions } from './inbox.permissions.ts';
import './inbox.schema.ts';

/**
 * The inbox: one stream per user for their room list (rooms added and removed, new DMs, messages in any of
 * their rooms with unread and mention counts, read markers, notifications, invites), resumable with a cursor;
 * and the unread totals on `me`.
 */
export const inboxModule = defineModule({ name: 'inbox', permissions: inboxPermissions, topics: ['inbox:event'] });
