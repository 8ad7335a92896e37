import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { roomRows, viewerRoomAccess } from './rooms.access.ts';
import * as rooms from './rooms.service.ts';

export const RoomType = builder.enumType('RoomType', {
  description: 'What kind of room it is, which decides who may join it and who may be added.',
  values: {
    DM: { description: 'A direct room between exactly two members of an org: nobody joins, is added or is removed.' },
    GROUP: { description: 'A private room: only its members see it, and members add others.' },
    CHANNEL: { description: "An open room: any member of the org may join it with `joinRoom`." },
  } as const,
});
export const RoomRole = builder.enumType('RoomRole', {
  description: "A member's role in a room.",
  values: {
    OWNER: { description: 'Everything an ADMIN may do, and may make others ADMIN. The creator of a room is its OWNER.' },
    ADMIN: { description: 'May rename, freeze and archive the room, set roles below ADMIN, and ban, mute and remove members.' },
    MODERATOR: { description: 'May delete and pin messages, mute members and speak in a frozen room.' },
    MEMBER: { description: 'May read, send, react, add people (GROUP and CHANNEL) and leave.' },
  } as const,
});

builder.prismaNode('Room', {
  description: 'A room where members of an org talk: a direct room, a private group or an open channel. Only its members see it.',
  id: { field: 'id', description: 'The global ID of the room.' },
  fields: (t) => ({
    type: t.expose('type', { type: RoomType, description: 'Direct room, group or channel.' }),
    name: t.exposeString('name', { nullable: true, description: 'The room\'s name; null for direct rooms: show the other person instead.' }),
    topic: t.exposeString('topic', { nullable: true, description: 'What the room is about, as its members wrote it; null when unset (always for direct rooms).' }),
    frozen: t.exposeBoolean('frozen', { description: 'Read-only for everyone below MODERATOR (setRoomFrozen).' }),
    archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true, description: 'When the room was archived (read-only for everyone, hidden from room lists unless asked for); null when it is not.' }),
    org: t.relation('org', { description: 'The org the room belongs to: only members of the org can be in the room.' }),
    lastSeq: t.exposeInt('lastSeq', { description: 'Seq of the newest message (0 when empty). Seqs are gap-free, so this is also how many messages the room has had.' }),
    lastActivityAt: t.expose('lastActivityAt', { type: 'DateTime', description: 'When the room was created or last received a message.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the room was created.' }),
    viewerRole: t.field({
      type: RoomRole,
      nullable: true,
      description: "The viewer's role in the room; null when the viewer is not a member (an API key, for instance).",
      resolve: async (room, _args, ctx) => (await viewerRoomAccess(ctx, room.id))?.role ?? null,
    }),
    unreadCount: t.int({
      description: "Messages after the viewer's read marker (sending a message marks the room read up to it).",
      resolve: async (room, _args, ctx) => Math.max(0, room.lastSeq - (await viewerLastRead(ctx, room.id))),
    }),
    lastMessage: t.prismaField({
      type: 'RoomMessage',
      nullable: true,
      description: 'The newest message (possibly a deleted one, without content); null when the room has none.',
      resolve: (query, room, _args, ctx) =>
        room.lastSeq ? ctx.loader<string, any>('lastMessage', (keys) => lastMessages(keys, query)).load(`${room.id}:${room.lastSeq}`) : null,
    }),
    members: t.relatedConnection(
      'members',
      { cursor: 'id', totalCount: true, description: 'The members of the room, in the order they joined.', query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      {
        name: 'RoomMemberConnection',
        description: 'A page of room members.',
        edgesField: { description: 'The members of this page, in the order they joined.' },
        // The plugin's own totalCount field (same extension and value), restated to carry a description.
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many members the room has (all pages).',
            extensions: { pothosPrismaTotalCount: true },
            resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
          }),
        }),
      },
      { name: 'RoomMemberEdge', description: 'A room member and its cursor.', nodeField: { description: 'The member.' } },
    ),
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

const CreatableRoomType = builder.enumType('CreatableRoomType', {
  description: 'The kinds of room `createRoom` makes (direct rooms are opened with `openDirectRoom`).',
  values: {
    GROUP: { description: 'A private room: only its members see it.' },
    CHANNEL: { description: 'An open room that any member of the org may join.' },
  } as const,
});
const CreateRoomInput = builder.inputType('CreateRoomInput', {
  description: 'A new group or channel in an org.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org to create the room in; you must be a member of it (NOT_FOUND otherwise).' }),
    type: t.field({ type: CreatableRoomType, required: true, description: 'GROUP (private) or CHANNEL (open to the org).' }),
    name: t.string({ required: true, description: 'The room\'s name: 1 to 100 characters after trimming (BAD_USER_INPUT otherwise).' }),
    topic: t.string({ description: 'What the room is about: at most 500 characters.' }),
    memberIds: t.idList({ description: 'Org members to add besides you (you become the OWNER); at most 500, each a member of the org (BAD_USER_INPUT otherwise).' }),
  }),
});
const OpenDirectRoomInput = builder.inputType('OpenDirectRoomInput', {
  description: 'The direct room between you and another member of an org.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org you both belong to.' }),
    userId: t.id({ required: true, description: 'The other person: a member of the org (NOT_FOUND otherwise), not yourself (BAD_USER_INPUT).' }),
  }),
});
const UpdateRoomInput = builder.inputType('UpdateRoomInput', {
  description: 'New name or topic for a group or channel (a field left out stays as it is).',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'The room to change; you must be its ADMIN or OWNER (FORBIDDEN otherwise). Direct rooms have no name or topic.' }),
    name: t.string({ description: 'The new name: 1 to 100 characters after trimming.' }),
    topic: t.string({ description: 'The new topic: at most 500 characters; null clears it.' }),
  }),
});

export const roomIdOf = (input: { roomId: unknown }) => idOf(input.roomId, 'Room', 'roomId');
export const userIds = (ids: readonly unknown[]) => ids.map((id) => idOf(id, 'User', 'userIds'));

builder.queryFields((t) => ({
  room: t.prismaField({
    type: 'Room',
    nullable: true,
    description:
      'A room by its ID. A room that does not exist or that you are not a member of answers null with a NOT_FOUND error (the two look the same, so room IDs cannot be probed).',
    args: { id: t.arg.id({ required: true, description: 'The global ID of the room.' }) },
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
    description: 'Creates a group or channel in an org, with you as its OWNER and the people named in `memberIds` as members.',
    args: { input: t.arg({ type: CreateRoomInput, required: true, description: 'The room to create.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const room = await rooms.createRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), { ...input, memberIds: userIds(input.memberIds ?? []) });
      return reloadRoom(query, room.id);
    },
  }),
  openDirectRoom: t.prismaField({
    type: 'Room',
    description: 'The direct room between you and another member of the org: created on the first call, the same room on every later one (from either side).',
    args: { input: t.arg({ type: OpenDirectRoomInput, required: true, description: 'Who to talk to, in which org.' }) },
    resolve: async (query, _root, { input }, ctx) =>
      reloadRoom(query, (await rooms.openDirectRoom(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'))).id),
  }),
  updateRoom: t.prismaField({
    type: 'Room',
    description: "Renames a group or channel or changes its topic. Only the room's ADMINs and OWNER may (FORBIDDEN otherwise); direct rooms cannot be changed.",
    args: { input: t.arg({ type: UpdateRoomInput, required: true, description: 'The room and its new name or topic.' }) },
    resolve: async (query, _root, { input }, ctx) => reloadRoom(query, (await rooms.updateRoom(ctx, roomIdOf(input), input)).id),
  }),
}));
