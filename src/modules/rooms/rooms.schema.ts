import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { viewerRoomAccess } from './rooms.access.ts';
import * as rooms from './rooms.service.ts';

export const RoomType = builder.enumType('RoomType', { values: ['DM', 'GROUP', 'CHANNEL'] as const });
export const RoomRole = builder.enumType('RoomRole', { values: ['ADMIN', 'MEMBER'] as const });

builder.prismaNode('Room', {
  id: { field: 'id' },
  fields: (t) => ({
    type: t.expose('type', { type: RoomType }),
    name: t.exposeString('name', { nullable: true, description: 'Null for direct rooms: show the other person instead.' }),
    topic: t.exposeString('topic', { nullable: true }),
    org: t.relation('org'),
    lastSeq: t.exposeInt('lastSeq', { description: 'Seq of the newest message (0 when empty).' }),
    lastActivityAt: t.expose('lastActivityAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    viewerRole: t.field({
      type: RoomRole,
      nullable: true,
      resolve: async (room, _args, ctx) => (await viewerRoomAccess(ctx, room.id))?.role ?? null,
    }),
    unreadCount: t.int({
      description: "Messages after the viewer's read marker (sending a message marks the room read up to it).",
      resolve: async (room, _args, ctx) => Math.max(0, room.lastSeq - (await viewerLastRead(ctx, room.id))),
    }),
    lastMessage: t.prismaField({
      type: 'RoomMessage',
      nullable: true,
      resolve: (query, room, _args, ctx) =>
        room.lastSeq ? ctx.loader<string, any>('lastMessage', (keys) => lastMessages(keys, query)).load(`${room.id}:${room.lastSeq}`) : null,
    }),
    members: t.relatedConnection('members', { cursor: 'id', query: { orderBy: { createdAt: 'asc' } } }),
  }),
});

async function lastMessages(keys: readonly string[], query: object) {
  const pairs = keys.map((k) => k.split(':'));
  const rows = await db.roomMessage.findMany({ ...query, where: { OR: pairs.map(([roomId, seq]) => ({ roomId, seq: Number(seq) })) } });
  const byKey = new Map(rows.map((m) => [`${m.roomId}:${m.seq}`, m]));
  return keys.map((k) => byKey.get(k) ?? null);
}

function viewerLastRead(ctx: Parameters<typeof viewerRoomAccess>[0], roomId: string): Promise<number> {
  const userId = ctx.viewer.kind === 'user' ? ctx.viewer.userId : '';
  return ctx
    .loader<string, number>('viewerLastRead', async (roomIds) => {
      const rows = await db.roomMember.findMany({ where: { userId, roomId: { in: [...roomIds] } }, select: { roomId: true, lastReadSeq: true } });
      const byRoom = new Map(rows.map((r) => [r.roomId, r.lastReadSeq]));
      return roomIds.map((id) => byRoom.get(id) ?? 0);
    })
    .load(roomId);
}

builder.prismaNode('RoomMember', {
  id: { field: 'id' },
  fields: (t) => ({
    role: t.expose('role', { type: RoomRole }),
    lastReadSeq: t.exposeInt('lastReadSeq', { description: 'Read receipt: everything up to this seq has been read.' }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
    user: t.relation('user'),
    room: t.relation('room'),
  }),
});

builder.prismaObjectField('User', 'rooms', (t) =>
  t.prismaConnection({
    type: 'Room',
    cursor: 'id',
    description: "The user's rooms, most recently active first, optionally in one org (only readable on yourself).",
    args: { orgId: t.arg.id() },
    resolve: (query, user, args) =>
      db.room.findMany({
        ...query,
        where: {
          members: { some: { userId: user.id } },
          org: { members: { some: { userId: user.id } } },
          ...(args.orgId ? { orgId: idOf(args.orgId, 'Org', 'orgId') } : {}),
        },
        orderBy: [{ lastActivityAt: 'desc' }, { id: 'desc' }],
      }),
  }),
);

const CreateRoomInput = builder.inputType('CreateRoomInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    type: t.field({ type: builder.enumType('CreatableRoomType', { values: ['GROUP', 'CHANNEL'] as const }), required: true }),
    name: t.string({ required: true }),
    topic: t.string(),
    memberIds: t.idList({ description: 'Org members to add besides you (you become the ADMIN).' }),
  }),
});
const OpenDirectRoomInput = builder.inputType('OpenDirectRoomInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const RoomIdInput = builder.inputType('RoomIdInput', { fields: (t) => ({ roomId: t.id({ required: true }) }) });
const AddRoomMembersInput = builder.inputType('AddRoomMembersInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), userIds: t.idList({ required: true }) }),
});
const RemoveRoomMemberInput = builder.inputType('RemoveRoomMemberInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const UpdateRoomInput = builder.inputType('UpdateRoomInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), name: t.string(), topic: t.string() }),
});
const MarkReadInput = builder.inputType('MarkReadInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), seq: t.int({ required: true }) }),
});

const roomIdOf = (input: { roomId: unknown }) => idOf(input.roomId, 'Room', 'roomId');
const userIds = (ids: readonly unknown[]) => ids.map((id) => idOf(id, 'User', 'userIds'));

builder.queryFields((t) => ({
  room: t.prismaField({
    type: 'Room',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args) => db.room.findUniqueOrThrow({ ...query, where: { id: idOf(args.id, 'Room') } }),
  }),
}));

const reload = (query: object, id: string) => db.room.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  createRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: CreateRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const room = await rooms.createRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), { ...input, memberIds: userIds(input.memberIds ?? []) });
      return reload(query, room.id);
    },
  }),
  openDirectRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: OpenDirectRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reload(query, (await rooms.openDirectRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'))).id),
  }),
  joinRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: RoomIdInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await rooms.joinRoom(ctx, roomIdOf(input))).id),
  }),
  addRoomMembers: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: AddRoomMembersInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await rooms.addRoomMembers(ctx, roomIdOf(input), userIds(input.userIds))).id),
  }),
  removeRoomMember: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: RemoveRoomMemberInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      await rooms.removeRoomMember(ctx, roomIdOf(input), idOf(input.userId, 'User', 'userId'));
      return reload(query, roomIdOf(input));
    },
  }),
  leaveRoom: t.field({
    type: builder.simpleObject('LeaveRoomPayload', { fields: (f) => ({ roomId: f.id() }) }),
    args: { input: t.arg({ type: RoomIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await rooms.removeRoomMember(ctx, roomIdOf(input), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '');
      return { roomId: encodeGlobalID('Room', roomIdOf(input)) };
    },
  }),
  updateRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: UpdateRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reload(query, (await rooms.updateRoom(ctx, roomIdOf(input), input)).id),
  }),
  markRead: t.prismaField({
    type: 'RoomMember',
    args: { input: t.arg({ type: MarkReadInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await rooms.markRead(ctx, roomIdOf(input), input.seq);
      return db.roomMember.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
}));
