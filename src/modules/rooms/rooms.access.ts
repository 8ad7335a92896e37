import type { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { db, Prisma, readRows } from '../../db/client.ts';
import { columnsOf, dateValue, rowsById, rowTo, type Columns } from '../../db/rows.ts';
import type { Room } from '../../generated/sqlite/client.ts';
import { appError, forbidden, notFound, unauthenticated } from '../../errors.ts';
import type { RoomRoleName } from './rooms.topics.ts';

export interface RoomAccess {
  roomId: string;
  orgId: string;
  type: 'DM' | 'GROUP' | 'CHANNEL';
  role: RoomRoleName;
  /** Read-only for everyone below MODERATOR. */
  frozen: boolean;
  /** Archived: read-only for everyone. */
  archived: boolean;
  /** The viewer's mute in this room, if one is stored (it may have expired: see `mutedNow`). */
  mute: { expiresAt: Date | null } | null;
  /** A DM whose other member blocked the viewer (blockUser). */
  dmBlocked: boolean;
}

/** Roles by rank: a moderation action needs a rank at least the action's and (on another member) above theirs. */
export const ROOM_ROLE_RANK: Record<RoomRoleName, number> = { MEMBER: 1, MODERATOR: 2, ADMIN: 3, OWNER: 4 };
export const atLeast = (role: RoomRoleName, min: RoomRoleName) => ROOM_ROLE_RANK[role] >= ROOM_ROLE_RANK[min];

/** Is this (stored) mute in force now? */
export const mutedNow = (mute: RoomAccess['mute'], now = Date.now()) => !!mute && (mute.expiresAt === null || mute.expiresAt.getTime() > now);

/** FORBIDDEN with reason ARCHIVED: an archived room is read-only for everyone until unarchived. */
export const archivedRefusal = () => appError('FORBIDDEN', 'This room is archived: it is read-only', { reason: 'ARCHIVED' });

/**
 * Why the viewer may not write in the room now (send, edit, react), or null when they may: archived rooms are
 * read-only for everyone, frozen ones below MODERATOR, a muted member reads only, and in a DM whose other member
 * blocked you, you cannot write. FORBIDDEN with `extensions.reason` (ARCHIVED, FROZEN, MUTED, BLOCKED).
 */
export function writeRefusal(access: RoomAccess): GraphQLError | null {
  if (access.archived) return archivedRefusal();
  if (access.frozen && !atLeast(access.role, 'MODERATOR')) return appError('FORBIDDEN', 'This room is frozen: only moderators may write', { reason: 'FROZEN' });
  if (mutedNow(access.mute)) {
    return appError('FORBIDDEN', 'You are muted in this room', { reason: 'MUTED', muteExpiresAt: access.mute?.expiresAt?.toISOString() ?? null });
  }
  if (access.dmBlocked) return appError('FORBIDDEN', 'You cannot message this person', { reason: 'BLOCKED' });
  return null;
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
      // With the viewer's mute (at most one row: unique on room and user) and, in a DM only, whether the other
      // member blocked the viewer: what writing needs (writeRefusal), in the same statement.
      const rows = await readRows(Prisma.sql`
        SELECT m."role", mu."id", mu."expiresAt",
          CASE WHEN r."type" = 'DM' THEN EXISTS (
            SELECT 1 FROM "RoomMember" o JOIN "UserBlock" b ON b."blockerId" = o."userId" AND b."blockedId" = m."userId"
            WHERE o."roomId" = m."roomId" AND o."userId" <> m."userId") ELSE false END,
          ${Prisma.raw(room.sql)}
        FROM "RoomMember" m JOIN "Room" r ON r."id" = m."roomId"
        LEFT JOIN "RoomMute" mu ON mu."roomId" = m."roomId" AND mu."userId" = m."userId"
        WHERE m."userId" = ${viewer.userId} AND m."roomId" IN (${Prisma.join([...roomIds])})${keyOrg}
          AND EXISTS (SELECT 1 FROM "Membership" o WHERE o."orgId" = r."orgId" AND o."userId" = ${viewer.userId})`);
      const byRoom = new Map<string, RoomAccess>();
      const rowLoader = roomRows(ctx);
      for (const row of rows) {
        const r = rowTo(room.fields, row, 4) as unknown as Room;
        byRoom.set(r.id, {
          roomId: r.id,
          role: row[0] as RoomAccess['role'],
          orgId: r.orgId,
          type: r.type,
          frozen: r.frozen,
          archived: r.archivedAt !== null,
          mute: row[1] == null ? null : { expiresAt: dateValue(row[2]) },
          dmBlocked: Boolean(Number(row[3])) || row[3] === true,
        });
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
export async function checkRoom(
  ctx: Context,
  roomId: string,
  opts: { admin?: boolean; minRole?: RoomRoleName; write?: boolean; notArchived?: boolean } = {},
): Promise<true | GraphQLError> {
  if (ctx.viewer.kind === 'anonymous') return unauthenticated();
  if (ctx.viewer.kind === 'apiKey') return forbidden('API keys are not room members');
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) return notFound('Room');
  const min = opts.minRole ?? (opts.admin ? 'ADMIN' : 'MEMBER');
  if (!atLeast(access.role, min)) return forbidden(`Requires the ${min} role in this room`);
  // `notArchived`: changes that are not talk (membership, pins) are refused in an archived room only.
  if (opts.notArchived && access.archived) return archivedRefusal();
  return (opts.write && writeRefusal(access)) || true;
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
