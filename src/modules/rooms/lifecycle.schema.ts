import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../schema/builder.ts';
import * as lifecycle from './lifecycle.service.ts';
import { reloadRoom, roomIdOf } from './rooms.schema.ts';

const roomInput = (name: string, description: string, roomDescription: string) =>
  builder.inputType(name, { description, fields: (t) => ({ roomId: t.id({ required: true, description: roomDescription }) }) });

const ArchiveRoomInput = roomInput(
  'ArchiveRoomInput',
  'The room to archive.',
  'A group or channel you are an ADMIN or OWNER of (FORBIDDEN otherwise, and for a direct room; NOT_FOUND when you are not a member).',
);
const UnarchiveRoomInput = roomInput(
  'UnarchiveRoomInput',
  'The archived room to bring back.',
  'A group or channel you are an ADMIN or OWNER of (FORBIDDEN otherwise; NOT_FOUND when you are not a member).',
);
const DeleteRoomInput = roomInput(
  'DeleteRoomInput',
  'The room to delete.',
  "A room you are the OWNER of, or any room of an org you are an OWNER or ADMIN of (member of the room or not). Other members of the room are FORBIDDEN; anyone else NOT_FOUND.",
);

const DeleteRoomPayload = builder.simpleObject('DeleteRoomPayload', {
  description: 'The result of `deleteRoom`.',
  fields: (t) => ({ deletedId: t.id({ description: 'The global ID of the deleted room: evict it (and its messages) from the cache.' }) }),
});

builder.mutationFields((t) => ({
  archiveRoom: t.prismaField({
    type: 'Room',
    description:
      'Archives a group or channel: it becomes read-only for everyone (writes are FORBIDDEN with reason ARCHIVED) and leaves room lists (`me.rooms` without `includeArchived`, the inbox). Its members still read it. Archiving an archived room changes nothing. A RoomUpdated event tells the room.',
    args: { input: t.arg({ type: ArchiveRoomInput, required: true, description: 'The room to archive.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await lifecycle.setArchived(ctx, roomIdOf(input), true)).id),
  }),
  unarchiveRoom: t.prismaField({
    type: 'Room',
    description: 'Brings an archived room back: writable again and back in room lists. A room that is not archived is left as it is. A RoomUpdated event tells the room.',
    args: { input: t.arg({ type: UnarchiveRoomInput, required: true, description: 'The room to unarchive.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await lifecycle.setArchived(ctx, roomIdOf(input), false)).id),
  }),
  deleteRoom: t.field({
    type: DeleteRoomPayload,
    description:
      "Deletes a room and everything in it: members, messages, reactions, pins and the files attached to its messages. Every subscriber of the room gets RoomDeleted (the last event of the subscription) and every member's inbox InboxRoomRemoved. Cannot be undone.",
    args: { input: t.arg({ type: DeleteRoomInput, required: true, description: 'The room to delete.' }) },
    resolve: async (_root, { input }, ctx) => {
      const roomId = roomIdOf(input);
      await lifecycle.deleteRoom(ctx, roomId);
      return { deletedId: encodeGlobalID('Room', roomId) };
    },
  }),
}));
