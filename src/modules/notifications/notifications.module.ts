import { defineModule } from '../../app-module.ts';
import { notificationsPermissions } from './notifications.permissions.ts';
import './notifications.schema.ts';

/** Notifications: topics users subscribe to, notifications sent to them or to a topic, acks. */
export const notificationsModule = defineModule({ name: 'notifications', permissions: notificationsPermissions, topics: ['notification:created'] });
