import { builder } from '../../schema/builder.ts';
import { viewerBlocks } from '../users/blocks.service.ts';

// What a block (users/blocks.*) shows in rooms. Per viewer: not in rooms' liveShared list.
builder.prismaObjectField('RoomMessage', 'hiddenForViewer', (t) =>
  t.boolean({
    description:
      'Whether you blocked its author (`blockUser`): a client hides it or shows it folded. It is still delivered, and counted in unread counts.',
    resolve: (m, _args, ctx) => viewerBlocks(ctx, m.senderId),
  }),
);
