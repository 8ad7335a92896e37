import type { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { db, Prisma, readRows } from '../../db/client.ts';
import { columnsOf, rowsById, rowTo, type Columns } from '../../db/rows.ts';
import type { Room } from '../../generated/sqlite/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';
import type { RoomRoleName } from './rooms.topics.ts';

export interface RoomAccess {
  roomId: string;
  orgId: string;
  type: 'DM' | 'GROUP' | 'CHANNEL';
  role: RoomRoleName;
}

/**
 * The viewer's membership of a room, or null. Membership of the room's org is required too, so
 * people removed from an org lose its rooms at once. One statement per operation however many rooms:
 * written out, because Prisma reads a selected relation (the room's org and type) with a second statement,
 * and this check runs before every room operation.
 */
export function viewerRoomAccess(ctx: Context, roomId: string): Promise<RoomAccess | null> {
  const viewer = ctx.viewer;
  if (viewer.kind !== 'user') return Promise.resolve(null);
  return ctx
    .loader<string, RoomAccess | null>('viewerRoomAccess', async (roomIds) => {
      // An API key acting as the member (X-Acting-User) reaches the rooms of the key's org only.
      const keyOrg = viewer.via ? Prisma.sql` AND r."orgId" = ${viewer.via.orgId}` : Prisma.empty;
      const room = (roomColumns ??= columnsOf('Room', 'r'));
      // On the driver (readRows); with the room's row, which `room(id)` then answers from (roomRow).
      const rows = await readRows(Prisma.sql`
        SELECT m."role", ${Prisma.raw(room.sql)}
        FROM "RoomMember" m JOIN "Room" r ON r."id" = m."roomId"
        WHERE m."userId" = ${viewer.userId} AND m."roomId" IN (${Prisma.join([...roomIds])})${keyOrg}
          AND EXISTS (SELECT 1 FROM "Membership" o WHERE o."orgId" = r."orgId" AND o."userId" = ${viewer.userId})`);
      const byRoom = new Map<string, RoomAccess>();
      const rowLoader = roomRows(ctx);
      for (const row of rows) {
        const r = rowTo(room.fields, row, 1) as unknown as Room;
        byRoom.set(r.id, { roomId: r.id, role: row[0] as RoomAccess['role'], orgId: r.orgId, type: r.type });
        rowLoader.prime(r.id, r);
      }
      return roomIds.map((id) => byRoom.get(id) ?? null);
    })
    .load(roomId);
}
let roomColumns: Columns | undefined;

/** Room rows by id for this operation (scalars only); the access check above fills it with the rooms it read. */
export const roomRows = (ctx: Context) => ctx.loader<string, Room | null>('roomRow', (ids) => rowsById<Room>('Room', ids));

/**
 * May the viewer see and act in this room? Only members may (NOT_FOUND otherwise, so room ids cannot
 * be probed). API keys are never room members: rooms are people talking.
 */
export async function checkRoom(ctx: Context, roomId: string, opts: { admin?: boolean } = {}): Promise<true | GraphQLError> {
  if (ctx.viewer.kind === 'anonymous') return unauthenticated();
  if (ctx.viewer.kind === 'apiKey') return forbidden('API keys are not room members');
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) return notFound('Room');
  return !opts.admin || access.role === 'ADMIN' || access.role === 'OWNER' || forbidden('Requires the ADMIN role in this room');
}

/** The room a message belongs to, loaded once per operation. */
export function roomOfMessage(ctx: Context, messageId: string): Promise<string | null> {
  return ctx
    .loader<string, string | null>('roomOfMessage', async (ids) => {
      const rows = await db.roomMessage.findMany({ where: { id: { in: [...ids] } }, select: { id: true, roomId: true } });
      const byId = new Map(rows.map((r) => [r.id, r.roomId]));
      return ids.map((id) => byId.get(id) ?? null);
    })
    .load(messageId);
}

/** The same check as viewerRoomAccess, uncached: long-lived subscriptions re-check with it. */
export async function isRoomMember(roomId: string, userId: string): Promise<boolean> {
  const n = await db.roomMember.count({ where: { roomId, userId, room: { org: { members: { some: { userId } } } } } });
  return n > 0;
}

export { requireUserId } from '../../auth/rules.ts';
