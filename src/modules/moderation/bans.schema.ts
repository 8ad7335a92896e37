import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { inForce } from '../rooms/rooms.bans.ts';
import { roomIdOf } from '../rooms/rooms.schema.ts';
import * as bans from './bans.service.ts';
import { ROOM_ID, targetOf, userOrNull } from './moderation.schema.ts';

builder.prismaNode('RoomBan', {
  description: "A ban from a room (`banRoomMember`): the person cannot join, be added or read the room until it expires or is lifted. Visible to the room's MODERATORs and above.",
  id: { field: 'id', description: 'The global ID of the ban (`unbanRoomMember` answers it as `deletedId`).' },
  fields: (t) => ({
    room: t.relation('room', { description: 'The room they are banned from.' }),
    user: t.field({ type: UserRef, nullable: true, description: 'The banned person; null if their account is gone.', resolve: (b, _a, ctx) => userOrNull(ctx, b.userId) }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why, as the moderator wrote it; null when none was given.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the ban ends by itself; null: until lifted with `unbanRoomMember`.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the ban was made (or last replaced by another ban).' }),
    bannedBy: t.field({ type: UserRef, nullable: true, description: 'Who banned them; null if their account is gone.', resolve: (b, _a, ctx) => userOrNull(ctx, b.createdById) }),
  }),
});

builder.prismaObjectField('Room', 'bans', (t) =>
  t.prismaConnection(
    {
      type: 'RoomBan',
      cursor: 'id',
      description: "The bans in force in the room, newest first (expired ones are left out). The room's MODERATORs and above only (FORBIDDEN otherwise).",
      resolve: (query, room) => db.roomBan.findMany({ ...query, where: { roomId: room.id, ...inForce() }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    { name: 'RoomBanConnection', description: 'A page of room bans.' },
    { name: 'RoomBanEdge', description: 'A room ban and its cursor.' },
  ),
);

const BanRoomMemberInput = builder.inputType('BanRoomMemberInput', {
  description: 'Who to ban from a room, why and until when.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: "A member of the room's org (NOT_FOUND otherwise). If they are in the room, they must rank below you (FORBIDDEN, reason RANK)." }),
    reason: t.string({ description: 'Why: at most 500 characters, shown to moderators.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the ban ends by itself (in the future: BAD_USER_INPUT otherwise); left out: until lifted.' }),
  }),
});
const UnbanRoomMemberInput = builder.inputType('UnbanRoomMemberInput', {
  description: 'Whose ban to lift.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: 'The banned person (NOT_FOUND when they have no ban in the room).' }),
  }),
});
const UnbanRoomMemberPayload = builder.simpleObject('UnbanRoomMemberPayload', {
  description: 'The result of `unbanRoomMember`.',
  fields: (f) => ({ deletedId: f.id({ description: 'The global ID of the lifted RoomBan: evict it from the cache.' }) }),
});
builder.mutationFields((t) => ({
  banRoomMember: t.prismaField({
    type: 'RoomBan',
    description:
      'Bans someone from a group or channel (ADMIN or OWNER only): their membership ends (RoomMemberLeft with reason BANNED ends their subscription) and they cannot join, be added or read the room (FORBIDDEN, reason BANNED) until the ban expires or is lifted. Banning again replaces the ban.',
    args: { input: t.arg({ type: BanRoomMemberInput, required: true, description: 'The room, the person, why and until when.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const ban = await bans.banRoomMember(ctx, roomIdOf(input), targetOf(input), { reason: input.reason, expiresAt: input.expiresAt });
      return db.roomBan.findUniqueOrThrow({ ...query, where: { id: ban.id } });
    },
  }),
  unbanRoomMember: t.field({
    type: UnbanRoomMemberPayload,
    description: 'Lifts a ban (ADMIN or OWNER only): the person may join or be added again.',
    args: { input: t.arg({ type: UnbanRoomMemberInput, required: true, description: 'The room and the banned person.' }) },
    resolve: async (_root, { input }, ctx) => ({ deletedId: encodeGlobalID('RoomBan', await bans.unbanRoomMember(ctx, roomIdOf(input), targetOf(input))) }),
  }),
}));
