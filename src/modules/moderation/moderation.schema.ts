import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { mutedNow, viewerRoomAccess, writeRefusal } from '../rooms/rooms.access.ts';
import { inForce } from '../rooms/rooms.bans.ts';
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

/** The stored mute of each (room, member), batched: RoomMember.muted and muteExpiresAt. */
function muteOf(ctx: Context, roomId: string, userId: string) {
  return ctx
    .loader<string, { expiresAt: Date | null } | null>('memberMute', async (keys) => {
      const pairs = keys.map((k) => k.split(':'));
      const rows = await db.roomMute.findMany({ where: { OR: pairs.map(([r, u]) => ({ roomId: r, userId: u })) }, select: { roomId: true, userId: true, expiresAt: true } });
      const byKey = new Map(rows.map((m) => [`${m.roomId}:${m.userId}`, m]));
      return keys.map((k) => byKey.get(k) ?? null);
    })
    .load(`${roomId}:${userId}`);
}

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

builder.prismaNode('RoomMute', {
  description: "A mute in a room (`muteRoomMember`): the member reads but cannot send, edit or react until it expires or is lifted. Visible to the room's MODERATORs and above.",
  id: { field: 'id', description: 'The global ID of the mute (`unmuteRoomMember` answers it as `deletedId`).' },
  fields: (t) => ({
    room: t.relation('room', { description: 'The room they are muted in.' }),
    user: t.field({ type: UserRef, nullable: true, description: 'The muted person; null if their account is gone.', resolve: (m, _a, ctx) => userOrNull(ctx, m.userId) }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why, as the moderator wrote it; null when none was given.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the mute ends by itself; null: until lifted with `unmuteRoomMember`.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the mute was made (or last replaced by another mute).' }),
    mutedBy: t.field({ type: UserRef, nullable: true, description: 'Who muted them; null if their account is gone.', resolve: (m, _a, ctx) => userOrNull(ctx, m.createdById) }),
  }),
});

builder.prismaObjectFields('RoomMember', (t) => ({
  muted: t.boolean({
    description: 'True while the member is muted in the room (reads, but cannot send, edit or react).',
    resolve: async (m, _a, ctx) => mutedNow(await muteOf(ctx, m.roomId, m.userId)),
  }),
  muteExpiresAt: t.field({
    type: 'DateTime',
    nullable: true,
    description: 'When the mute ends by itself; null when not muted or muted until unmuted.',
    resolve: async (m, _a, ctx) => {
      const mute = await muteOf(ctx, m.roomId, m.userId);
      return mutedNow(mute) ? (mute?.expiresAt ?? null) : null;
    },
  }),
}));

builder.prismaObjectFields('Room', (t) => ({
  viewerCanSend: t.boolean({
    description:
      'Whether you may send in the room now: false when it is archived, frozen (below MODERATOR), when you are muted, or in a direct room whose other member blocked you. `sendMessage` answers FORBIDDEN with that reason.',
    resolve: async (room, _a, ctx) => {
      const access = await viewerRoomAccess(ctx, room.id);
      return !!access && !writeRefusal(access);
    },
  }),
  bans: t.prismaConnection(
    {
      type: 'RoomBan',
      cursor: 'id',
      description: "The bans in force in the room, newest first (expired ones are left out). The room's MODERATORs and above only (FORBIDDEN otherwise).",
      resolve: (query, room) => db.roomBan.findMany({ ...query, where: { roomId: room.id, ...inForce() }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    { name: 'RoomBanConnection', description: 'A page of room bans.' },
    { name: 'RoomBanEdge', description: 'A room ban and its cursor.' },
  ),
  mutes: t.prismaConnection(
    {
      type: 'RoomMute',
      cursor: 'id',
      description: "The mutes in force in the room, newest first (expired ones are left out). The room's MODERATORs and above only (FORBIDDEN otherwise).",
      resolve: (query, room) => db.roomMute.findMany({ ...query, where: { roomId: room.id, ...inForce() }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    { name: 'RoomMuteConnection', description: 'A page of room mutes.' },
    { name: 'RoomMuteEdge', description: 'A room mute and its cursor.' },
  ),
}));

const ROOM_ID = 'A group or channel you moderate (direct rooms have no moderation: FORBIDDEN). Not a member: NOT_FOUND.';

const SetRoomMemberRoleInput = builder.inputType('SetRoomMemberRoleInput', {
  description: "A member's new role in a room.",
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: 'The member (NOT_FOUND when not in the room). You must outrank their current role, and it cannot be you (FORBIDDEN, reason RANK).' }),
    role: t.field({ type: RoomRole, required: true, description: 'The new role, below yours; OWNER (from the OWNER only) hands the room over: you become ADMIN.' }),
  }),
});
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
const MuteRoomMemberInput = builder.inputType('MuteRoomMemberInput', {
  description: 'Who to mute in a room, why and until when.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: 'A member of the room ranked below you (NOT_FOUND when not in the room; FORBIDDEN, reason RANK, when not below you).' }),
    reason: t.string({ description: 'Why: at most 500 characters, shown to moderators.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the mute ends by itself (in the future: BAD_USER_INPUT otherwise); left out: until lifted.' }),
  }),
});
const UnmuteRoomMemberInput = builder.inputType('UnmuteRoomMemberInput', {
  description: 'Whose mute to lift.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: ROOM_ID }),
    userId: t.id({ required: true, description: 'The muted person (NOT_FOUND when they have no mute in the room); if still a member, ranked below you.' }),
  }),
});
const SetRoomFrozenInput = builder.inputType('SetRoomFrozenInput', {
  description: 'Freezes or unfreezes a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A group or channel where you are ADMIN or OWNER (FORBIDDEN otherwise; direct rooms cannot be frozen).' }),
    frozen: t.boolean({ required: true, description: 'True: read-only for everyone below MODERATOR; false: writable again.' }),
  }),
});

const UnbanRoomMemberPayload = builder.simpleObject('UnbanRoomMemberPayload', {
  description: 'The result of `unbanRoomMember`.',
  fields: (f) => ({ deletedId: f.id({ description: 'The global ID of the lifted RoomBan: evict it from the cache.' }) }),
});
const UnmuteRoomMemberPayload = builder.objectRef<{ deletedId: string; roomId: string; userId: string }>('UnmuteRoomMemberPayload').implement({
  description: 'The result of `unmuteRoomMember`.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global ID of the lifted RoomMute: evict it from the cache.' }),
    member: t.prismaField({
      type: 'RoomMember',
      nullable: true,
      description: 'The member, no longer muted; null when they are no longer in the room.',
      resolve: (query, p) => db.roomMember.findUnique({ ...query, where: { roomId_userId: { roomId: p.roomId, userId: p.userId } } }),
    }),
  }),
});

const targetOf = (input: { userId: unknown }) => idOf(input.userId, 'User', 'userId');

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
  banRoomMember: t.prismaField({
    type: 'RoomBan',
    description:
      'Bans someone from a group or channel (ADMIN or OWNER only): their membership ends (RoomMemberLeft with reason BANNED ends their subscription) and they cannot join, be added or read the room (FORBIDDEN, reason BANNED) until the ban expires or is lifted. Banning again replaces the ban.',
    args: { input: t.arg({ type: BanRoomMemberInput, required: true, description: 'The room, the person, why and until when.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const ban = await moderation.banRoomMember(ctx, roomIdOf(input), targetOf(input), { reason: input.reason, expiresAt: input.expiresAt });
      return db.roomBan.findUniqueOrThrow({ ...query, where: { id: ban.id } });
    },
  }),
  unbanRoomMember: t.field({
    type: UnbanRoomMemberPayload,
    description: 'Lifts a ban (ADMIN or OWNER only): the person may join or be added again.',
    args: { input: t.arg({ type: UnbanRoomMemberInput, required: true, description: 'The room and the banned person.' }) },
    resolve: async (_root, { input }, ctx) => ({ deletedId: encodeGlobalID('RoomBan', await moderation.unbanRoomMember(ctx, roomIdOf(input), targetOf(input))) }),
  }),
  muteRoomMember: t.prismaField({
    type: 'RoomMute',
    description:
      'Mutes a member (MODERATOR and above, on members ranked below them): they read but cannot send, edit or react (FORBIDDEN, reason MUTED) until the mute expires or is lifted. Muting again replaces the mute. A RoomMemberUpdated event tells the room.',
    args: { input: t.arg({ type: MuteRoomMemberInput, required: true, description: 'The room, the member, why and until when.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const mute = await moderation.muteRoomMember(ctx, roomIdOf(input), targetOf(input), { reason: input.reason, expiresAt: input.expiresAt });
      return db.roomMute.findUniqueOrThrow({ ...query, where: { id: mute.id } });
    },
  }),
  unmuteRoomMember: t.field({
    type: UnmuteRoomMemberPayload,
    description: 'Lifts a mute (MODERATOR and above). A RoomMemberUpdated event tells the room.',
    args: { input: t.arg({ type: UnmuteRoomMemberInput, required: true, description: 'The room and the muted person.' }) },
    resolve: async (_root, { input }, ctx) => {
      const roomId = roomIdOf(input);
      const userId = targetOf(input);
      return { deletedId: encodeGlobalID('RoomMute', await moderation.unmuteRoomMember(ctx, roomId, userId)), roomId, userId };
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
