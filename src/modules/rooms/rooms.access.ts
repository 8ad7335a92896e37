import type { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { db } from '../../db.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';

export interface RoomAccess {
  roomId: string;
  orgId: string;
  type: 'DM' | 'GROUP' | 'CHANNEL';
  role: 'ADMIN' | 'MEMBER';
}

/**
 * The viewer's membership of a room, or null. Membership of the room's org is required too, so
 * people removed from an org lose its rooms at once. One query per operation however many rooms.
 */
export function viewerRoomAccess(ctx: Context, roomId: string): Promise<RoomAccess | null> {
  const viewer = ctx.viewer;
  if (viewer.kind !== 'user') return Promise.resolve(null);
  return ctx
    .loader<string, RoomAccess | null>('viewerRoomAccess', async (roomIds) => {
      const rows = await db.roomMember.findMany({
        where: {
          userId: viewer.userId,
          roomId: { in: [...roomIds] },
          // An API key acting as the member (X-Acting-User) reaches the rooms of the key's org only.
          room: { ...(viewer.via ? { orgId: viewer.via.orgId } : {}), org: { members: { some: { userId: viewer.userId } } } },
        },
        select: { roomId: true, role: true, room: { select: { orgId: true, type: true } } },
      });
      const byRoom = new Map(rows.map((r) => [r.roomId, { roomId: r.roomId, role: r.role, orgId: r.room.orgId, type: r.room.type }]));
      return roomIds.map((id) => byRoom.get(id) ?? null);
    })
    .load(roomId);
}

/**
 * May the viewer see and act in this room? Only members may (NOT_FOUND otherwise, so room ids cannot
 * be probed). API keys are never room members: rooms are people talking.
 */
export async function checkRoom(ctx: Context, roomId: string, opts: { admin?: boolean } = {}): Promise<true | GraphQLError> {
  if (ctx.viewer.kind === 'anonymous') return unauthenticated();
  if (ctx.viewer.kind === 'apiKey') return forbidden('API keys are not room members');
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) return notFound('Room');
  return !opts.admin || access.role === 'ADMIN' || forbidden('Requires the ADMIN role in this room');
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
