import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { reloadRoom, RoomRole, roomIdOf, userIds } from './rooms.schema.ts';
import * as rooms from './rooms.service.ts';

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

const RoomIdInput = builder.inputType('RoomIdInput', { fields: (t) => ({ roomId: t.id({ required: true }) }) });
const AddRoomMembersInput = builder.inputType('AddRoomMembersInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), userIds: t.idList({ required: true }) }),
});
const RemoveRoomMemberInput = builder.inputType('RemoveRoomMemberInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), userId: t.id({ required: true }) }),
});
const MarkReadInput = builder.inputType('MarkReadInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), seq: t.int({ required: true }) }),
});

builder.mutationFields((t) => ({
  joinRoom: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: RoomIdInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.joinRoom(ctx, roomIdOf(input))).id),
  }),
  addRoomMembers: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: AddRoomMembersInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.addRoomMembers(ctx, roomIdOf(input), userIds(input.userIds))).id),
  }),
  removeRoomMember: t.prismaField({
    type: 'Room',
    args: { input: t.arg({ type: RemoveRoomMemberInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      await rooms.removeRoomMember(ctx, roomIdOf(input), idOf(input.userId, 'User', 'userId'));
      return reloadRoom(query, roomIdOf(input));
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
  markRead: t.prismaField({
    type: 'RoomMember',
    args: { input: t.arg({ type: MarkReadInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await rooms.markRead(ctx, roomIdOf(input), input.seq);
      return db.roomMember.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
}));
