import { defineModule } from '../../app-module.ts';
import { moderationPermissions } from './moderation.permissions.ts';
import './moderation.schema.ts';
import './bans.schema.ts';
import './mutes.schema.ts';
import './reports.schema.ts';

/**
 * Room moderation (roles, bans, mutes, frozen rooms) and reports to the org's admins. Rooms' own events carry what
 * every member may see (role and mute changes, freezing); bans and reports go on `moderation:event`, for webhooks.
 */
export const moderationModule = defineModule({ name: 'moderation', permissions: moderationPermissions, topics: ['moderation:event'] });
