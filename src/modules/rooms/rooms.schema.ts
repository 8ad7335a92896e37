import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { roomRows, viewerRoomAccess } from './rooms.access.ts';
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
const UpdateRoomInput = builder.inputType('UpdateRoomInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), name: t.string(), topic: t.string() }),
});

export const roomIdOf = (input: { roomId: unknown }) => idOf(input.roomId, 'Room', 'roomId');
export const userIds = (ids: readonly unknown[]) => ids.map((id) => idOf(id, 'User', 'userIds'));

builder.queryFields((t) => ({
  room: t.prismaField({
    type: 'Room',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = idOf(args.id, 'Room');
      // Nothing nested to load (the usual room header): the row the access check read with the membership.
      if (Object.keys(query).length) return db.room.findUniqueOrThrow({ ...query, where: { id } });
      return (await roomRows(ctx).load(id)) ?? Promise.reject(notFound('Room'));
    },
  }),
}));

export const reloadRoom = (query: object, id: string) => db.room.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  createRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: CreateRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const room = await rooms.createRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), { ...input, memberIds: userIds(input.memberIds ?? []) });
      return reloadRoom(query, room.id);
    },
  }),
  openDirectRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: OpenDirectRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) =>
      reloadRoom(query, (await rooms.openDirectRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'))).id),
  }),
  updateRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: UpdateRoomInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.updateRoom(ctx, roomIdOf(input), input)).id),
  }),
}));
