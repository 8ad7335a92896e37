import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { viewerRoomAccess, writeRefusal } from '../rooms/rooms.access.ts';
import { reloadRoom, RoomRole, roomIdOf } from '../rooms/rooms.schema.ts';
import * as moderation from './moderation.service.ts';

/** Users named by bans, mutes and reports (who acted may be gone: null), batched per operation. */
export function userOrNull(ctx: Context, id: string | null) {
  if (!id) return null;
  return ctx
    .loader<string, any>('moderationUser', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((i) => byId.get(i) ?? null);
    })
    .load(id);
}

/** What every moderation input says of its `roomId`. */
export const ROOM_ID = 'A group or channel you moderate (direct rooms have no moderation: FORBIDDEN). Not a member: NOT_FOUND.';
/** The raw id of the member a moderation input names. */
export const targetOf = (input: { userId: unknown }) => idOf(input.userId, 'User', 'userId');

builder.prismaObjectField('Room', 'viewerCanSend', (t) =>
  t.boolean({
    description:
      'Whether you may send in the room now: false when it is archived, frozen (below MODERATOR), when you are muted, or in a direct room whose other member blocked you. `sendMessage` answers FORBIDDEN with that reason.',
    resolve: async (room, _a, ctx) => {
      const access = await viewerRoomAccess(ctx, room.id);
      return !!access && !writeRefusal(access);
    },
  }),
);

const SetRoomMemberRoleInput = builder.inputType('SetRoomMemberRoleInput', {
  description: "A member's new role in a room.",
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: 'The member (NOT_FOUND when not in the room). You must outrank their current role, and it cannot be you (FORBIDDEN, reason RANK).' }),
    role: t.field({ type: RoomRole, required: true, description: 'The new role, below yours; OWNER (from the OWNER only) hands the room over: you become ADMIN.' }),
  }),
});
const SetRoomFrozenInput = builder.inputType('SetRoomFrozenInput', {
  description: 'Freezes or unfreezes a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A group or channel where you are ADMIN or OWNER (FORBIDDEN otherwise; direct rooms cannot be frozen).' }),
    frozen: t.boolean({ required: true, description: 'True: read-only for everyone below MODERATOR; false: writable again.' }),
  }),
});

builder.mutationFields((t) => ({
  setRoomMemberRole: t.prismaField({
    type: 'RoomMember',
    description:
      "Sets a member's role (ADMIN or OWNER only). You must outrank the member and the new role must be below yours; the OWNER making someone OWNER hands the room over and becomes ADMIN. A RoomMemberUpdated event tells the room.",
    args: { input: t.arg({ type: SetRoomMemberRoleInput, required: true, description: 'The room, the member and the role.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await moderation.setRoomMemberRole(ctx, roomIdOf(input), targetOf(input), input.role);
      return db.roomMember.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
  setRoomFrozen: t.prismaField({
    type: 'Room',
    description:
      'Freezes a group or channel (read-only for everyone below MODERATOR: FORBIDDEN, reason FROZEN) or unfreezes it (ADMIN or OWNER only). A RoomUpdated event tells the room.',
    args: { input: t.arg({ type: SetRoomFrozenInput, required: true, description: 'The room and whether it is frozen.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await moderation.setRoomFrozen(ctx, roomIdOf(input), input.frozen)).id),
  }),
}));
