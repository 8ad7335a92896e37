import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import type { User } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { RoomMessageConnection } from './messages.schema.ts';
import { setPinned } from './pins.service.ts';

/** Who pinned, batched; null when their account is gone (pinnedById is not a foreign key). */
const pinnerById = (ctx: Context, id: string) =>
  ctx
    .loader<string, User | null>('pinnerById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((i) => byId.get(i) ?? null);
    })
    .load(id);

builder.prismaObjectFields('RoomMessage', (t) => ({
  pinnedAt: t.expose('pinnedAt', { type: 'DateTime', nullable: true, description: 'When it was pinned (`pinMessage`); null while it is not pinned.' }),
  pinnedBy: t.field({
    type: UserRef,
    nullable: true,
    description: 'Who pinned it; null while it is not pinned.',
    resolve: (m, _args, ctx) => (m.pinnedAt && m.pinnedById ? pinnerById(ctx, m.pinnedById) : null),
  }),
}));

builder.prismaObjectFields('Room', (t) => ({
  pinnedMessages: t.relatedConnection(
    'messages',
    {
      cursor: 'id',
      description: "The room's pinned messages, the most recently pinned first (at most 50; deleted messages are not listed).",
      maxSize: (_args, ctx) => ctx.app.config.rooms.maxMessagesPerPage,
      query: { where: { pinnedAt: { not: null }, deletedAt: null }, orderBy: [{ pinnedAt: 'desc' }, { id: 'desc' }] },
    },
    RoomMessageConnection,
  ),
}));

const pinInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      messageId: t.id({
        required: true,
        description:
          'A message of a room you are a member of (NOT_FOUND otherwise): in a group or channel you must be its MODERATOR, ADMIN or OWNER (FORBIDDEN otherwise); in a direct room either of you may. GONE once deleted; FORBIDDEN (reason ARCHIVED) in an archived room.',
      }),
    }),
  });
const PinMessageInput = pinInput('PinMessageInput', 'The message to pin.');
const UnpinMessageInput = pinInput('UnpinMessageInput', 'The message to unpin.');

const reload = (query: object, id: string) => db.roomMessage.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  pinMessage: t.prismaField({
    type: 'RoomMessage',
    description:
      'Pins a message to its room (listed in `Room.pinnedMessages`) and returns it. Pinning a pinned message changes nothing. A room keeps at most 50 pinned messages (BAD_USER_INPUT beyond: unpin one first). A RoomMessagePinChanged event tells the room.',
    args: { input: t.arg({ type: PinMessageInput, required: true, description: 'The message to pin.' }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setPinned(ctx, idOf(input.messageId, 'RoomMessage', 'messageId'), true)).id),
  }),
  unpinMessage: t.prismaField({
    type: 'RoomMessage',
    description: 'Unpins a message and returns it (unpinning one that is not pinned changes nothing). A RoomMessagePinChanged event tells the room.',
    args: { input: t.arg({ type: UnpinMessageInput, required: true, description: 'The message to unpin.' }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await setPinned(ctx, idOf(input.messageId, 'RoomMessage', 'messageId'), false)).id),
  }),
}));
