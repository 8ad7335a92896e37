import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { mutedNow } from '../rooms/rooms.access.ts';
import { inForce } from '../rooms/rooms.bans.ts';
import { roomIdOf } from '../rooms/rooms.schema.ts';
import * as mutes from './mutes.service.ts';
import { ROOM_ID, targetOf, userOrNull } from './moderation.schema.ts';

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

builder.prismaObjectField('Room', 'mutes', (t) =>
  t.prismaConnection(
    {
      type: 'RoomMute',
      cursor: 'id',
      description: "The mutes in force in the room, newest first (expired ones are left out). The room's MODERATORs and above only (FORBIDDEN otherwise).",
      resolve: (query, room) => db.roomMute.findMany({ ...query, where: { roomId: room.id, ...inForce() }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    { name: 'RoomMuteConnection', description: 'A page of room mutes.' },
    { name: 'RoomMuteEdge', description: 'A room mute and its cursor.' },
  ),
);

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

builder.mutationFields((t) => ({
  muteRoomMember: t.prismaField({
    type: 'RoomMute',
    description:
      'Mutes a member (MODERATOR and above, on members ranked below them): they read but cannot send, edit or react (FORBIDDEN, reason MUTED) until the mute expires or is lifted. Muting again replaces the mute. A RoomMemberUpdated event tells the room.',
    args: { input: t.arg({ type: MuteRoomMemberInput, required: true, description: 'The room, the member, why and until when.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const mute = await mutes.muteRoomMember(ctx, roomIdOf(input), targetOf(input), { reason: input.reason, expiresAt: input.expiresAt });
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
      return { deletedId: encodeGlobalID('RoomMute', await mutes.unmuteRoomMember(ctx, roomId, userId)), roomId, userId };
    },
  }),
}));
