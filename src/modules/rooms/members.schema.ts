import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { reloadRoom, RoomRole, roomIdOf, userIds } from './rooms.schema.ts';
import * as rooms from './rooms.service.ts';

builder.prismaNode('RoomMember', {
  description: "A person's membership of a room: their role and how far they have read.",
  id: { field: 'id', description: 'The global ID of the membership (it changes if the person leaves and joins again).' },
  fields: (t) => ({
    role: t.expose('role', { type: RoomRole, description: 'OWNER, ADMIN, MODERATOR or MEMBER.' }),
    lastReadSeq: t.exposeInt('lastReadSeq', { description: 'Read receipt: everything up to this seq has been read (0 when nothing). It only moves forward.' }),
    joinedAt: t.expose('createdAt', { type: 'DateTime', description: 'When the person joined or was added.' }),
    user: t.relation('user', { description: 'The member.' }),
    room: t.relation('room', { description: 'The room.' }),
  }),
});

builder.prismaObjectField(ViewerRef, 'rooms', (t) =>
  t.prismaConnection({
    type: 'Room',
    cursor: 'id',
    description: 'Your rooms, most recently active first, optionally in one org. Archived rooms are left out unless `includeArchived` is true.',
    args: {
      orgId: t.arg.id({ description: 'Only the rooms of this org.' }),
      includeArchived: t.arg.boolean({ defaultValue: false, description: 'Also list archived rooms (archiveRoom).' }),
    },
    resolve: (query, user, args) =>
      db.room.findMany({
        ...query,
        where: {
          members: { some: { userId: user.id } },
          org: { members: { some: { userId: user.id } } },
          ...(args.orgId ? { orgId: idOf(args.orgId, 'Org', 'orgId') } : {}),
          ...(args.includeArchived ? {} : { archivedAt: null }),
        },
        orderBy: [{ lastActivityAt: 'desc' }, { id: 'desc' }],
      }),
  },
  { name: 'RoomConnection', description: 'A page of rooms.', edgesField: { description: 'The rooms of this page.' } },
  { name: 'RoomEdge', description: 'A room and its cursor.', nodeField: { description: 'The room.' } }),
);

const JoinRoomInput = builder.inputType('JoinRoomInput', {
  description: 'The channel to join.',
  fields: (t) => ({ roomId: t.id({ required: true, description: 'A CHANNEL of one of your orgs; any other room answers NOT_FOUND.' }) }),
});
const LeaveRoomInput = builder.inputType('LeaveRoomInput', {
  description: 'The room to leave.',
  fields: (t) => ({ roomId: t.id({ required: true, description: 'A group or channel you are a member of (you cannot leave a direct room: FORBIDDEN).' }) }),
});
const AddRoomMembersInput = builder.inputType('AddRoomMembersInput', {
  description: 'People to add to a group or channel.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A group or channel you are a member of (people cannot be added to a direct room: FORBIDDEN).' }),
    userIds: t.idList({ required: true, description: 'The people to add: 1 to 500 members of the room\'s org (BAD_USER_INPUT otherwise). Those already in the room are skipped.' }),
  }),
});
const RemoveRoomMemberInput = builder.inputType('RemoveRoomMemberInput', {
  description: 'A member to remove from a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: "The room; removing someone else requires the room's ADMIN or OWNER role (FORBIDDEN otherwise) and a rank above theirs (FORBIDDEN, reason RANK)." }),
    userId: t.id({ required: true, description: 'The person to remove (NOT_FOUND when they are not a member).' }),
  }),
});
const MarkReadInput = builder.inputType('MarkReadInput', {
  description: 'How far you have read in a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A room you are a member of.' }),
    seq: t.int({ required: true, description: "The seq of the last message read: 0 to the room's lastSeq (BAD_USER_INPUT otherwise). A seq below your marker changes nothing." }),
  }),
});

const RemoveRoomMemberPayload = builder.objectRef<{ deletedId: string; roomId: string; stillMember: boolean }>('RemoveRoomMemberPayload').implement({
  description: 'The result of `removeRoomMember`.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global ID of the removed RoomMember: evict it from the cache.' }),
    room: t.prismaField({
      type: 'Room',
      nullable: true,
      description: 'The room, without the removed member; null when you removed yourself (you can no longer read it).',
      resolve: (query, payload) => (payload.stillMember ? reloadRoom(query, payload.roomId) : null),
    }),
  }),
});
const LeaveRoomPayload = builder.simpleObject('LeaveRoomPayload', {
  description: 'The result of `leaveRoom`. The room itself is no longer readable by you.',
  fields: (f) => ({
    deletedId: f.id({ description: 'The global ID of your RoomMember in the room, now gone: evict it from the cache.' }),
    roomId: f.id({ description: 'The global ID of the room you left: drop it from your lists of rooms.' }),
  }),
});

builder.mutationFields((t) => ({
  joinRoom: t.prismaField({
    type: 'Room',
    description: 'Joins a CHANNEL of one of your orgs as a MEMBER (joining twice changes nothing). Other rooms answer NOT_FOUND: people are added to them.',
    args: { input: t.arg({ type: JoinRoomInput, required: true, description: 'The channel to join.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.joinRoom(ctx, roomIdOf(input))).id),
  }),
  addRoomMembers: t.prismaField({
    type: 'Room',
    description: 'Adds members of the org to a group or channel you are in, as MEMBERs. Each new member is a RoomMemberJoined event.',
    args: { input: t.arg({ type: AddRoomMembersInput, required: true, description: 'The room and the people to add.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.addRoomMembers(ctx, roomIdOf(input), userIds(input.userIds))).id),
  }),
  removeRoomMember: t.field({
    type: RemoveRoomMemberPayload,
    description: "Removes someone from a group or channel: the room's ADMINs and OWNER may remove members ranked below them, anyone may remove themselves (see also `leaveRoom`). Their RoomMemberLeft event ends their subscription to the room.",
    args: { input: t.arg({ type: RemoveRoomMemberInput, required: true, description: 'The room and the person to remove.' }) },
    resolve: async (_root, { input }, ctx) => {
      const roomId = roomIdOf(input);
      const userId = idOf(input.userId, 'User', 'userId');
      const memberId = await rooms.removeRoomMember(ctx, roomId, userId);
      const stillMember = ctx.viewer.kind === 'user' && ctx.viewer.userId !== userId;
      return { deletedId: encodeGlobalID('RoomMember', memberId), roomId, stillMember };
    },
  }),
  leaveRoom: t.field({
    type: LeaveRoomPayload,
    description: 'Leaves a group or channel. Your subscription to the room ends with your own RoomMemberLeft event.',
    args: { input: t.arg({ type: LeaveRoomInput, required: true, description: 'The room to leave.' }) },
    resolve: async (_root, { input }, ctx) => {
      const memberId = await rooms.removeRoomMember(ctx, roomIdOf(input), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '');
      return { deletedId: encodeGlobalID('RoomMember', memberId), roomId: encodeGlobalID('Room', roomIdOf(input)) };
    },
  }),
  markRead: t.prismaField({
    type: 'RoomMember',
    description: 'Moves your read marker in a room forward (never back) and tells the room with a ReadReceiptUpdated event. Returns your membership.',
    args: { input: t.arg({ type: MarkReadInput, required: true, description: 'The room and the seq read up to.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await rooms.markRead(ctx, roomIdOf(input), input.seq);
      return db.roomMember.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
}));
