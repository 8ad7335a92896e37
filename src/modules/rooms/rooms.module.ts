import { defineModule } from '../../app-module.ts';
import { batchStats } from './messages.commit.ts';
import { roomsPermissions } from './rooms.permissions.ts';
import './rooms.schema.ts';
import './members.schema.ts';
import './messages.schema.ts';
import './events.schema.ts';
import './pins.schema.ts';
import './lifecycle.schema.ts';
import './blocked.schema.ts';

/**
 * Rooms: members, messages, reactions, read receipts and their live events. Its metrics: how well sends
 * share their commits (group commit, messages.commit.ts).
 */
export const roomsModule = defineModule({
  name: 'rooms',
  permissions: roomsPermissions,
  topics: ['room:event'],
  gauges: () => [
    {
      name: 'confab_room_send_commits',
      help: 'Transactions that committed sent room messages, since this process started (one per batch)',
      read: async () => [{ value: batchStats().batches }],
    },
    {
      name: 'confab_room_send_messages',
      help: 'Room messages committed by those transactions; divided by confab_room_send_commits, the mean batch size',
      read: async () => [{ value: batchStats().messages }],
    },
    {
      name: 'confab_room_send_batch_largest',
      help: 'The most room messages one transaction has committed in this process',
      read: async () => [{ value: batchStats().largest }],
    },
    {
      name: 'confab_room_send_fallbacks',
      help: 'Batches that failed and were committed again one message at a time',
      read: async () => [{ value: batchStats().fallbacks }],
    },
  ],
});
