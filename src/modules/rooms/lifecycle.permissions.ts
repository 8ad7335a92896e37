import { idOf, roleAtLeast, ruleOf, viewerRole } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';
import { checkRoom, viewerRoomAccess } from './rooms.access.ts';

const roomOf = (args: { input: { roomId: unknown } }) => idOf(args.input.roomId, 'Room', 'roomId');

/**
 * deleteRoom: the room's OWNER, or an OWNER or ADMIN of its org, member of the room or not (an org admin names the
 * room by its id). Other members of the room are FORBIDDEN; everyone else NOT_FOUND, as for any room they are not in.
 */
async function canDeleteRoom(ctx: Context, args: { input: { roomId: unknown } }) {
  if (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session') return unauthenticated();
  if (ctx.viewer.kind === 'apiKey') return forbidden('API keys cannot delete rooms');
  const roomId = roomOf(args);
  const room = await db.room.findUnique({ where: { id: roomId }, select: { orgId: true } });
  if (!room) return notFound('Room');
  const orgRole = await viewerRole(ctx, room.orgId);
  if (orgRole && roleAtLeast(orgRole, 'ADMIN')) return true;
  const access = await viewerRoomAccess(ctx, roomId);
  if (!access) return notFound('Room');
  return access.role === 'OWNER' || forbidden("Requires the room's OWNER role, or the org's ADMIN role");
}

export const lifecycleRules = {
  Mutation: {
    archiveRoom: ruleOf('canArchiveRoom', (ctx, args) => checkRoom(ctx, roomOf(args), { minRole: 'ADMIN' })),
    unarchiveRoom: ruleOf('canUnarchiveRoom', (ctx, args) => checkRoom(ctx, roomOf(args), { minRole: 'ADMIN' })),
    deleteRoom: ruleOf('canDeleteRoom', canDeleteRoom),
  },
};
