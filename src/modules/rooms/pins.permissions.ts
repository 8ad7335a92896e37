import { idOf, ruleOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { forbidden, notFound } from '../../errors.ts';
import { archivedRefusal, atLeast, checkRoom, roomOfMessage, viewerRoomAccess } from './rooms.access.ts';

/**
 * Pinning is moderation in a group or channel (MODERATOR and up), and either person's choice in a direct room.
 * Not in an archived room (FORBIDDEN, reason ARCHIVED). Another room's message is NOT_FOUND, as for any message
 * of a room the viewer is not in.
 */
async function canPin(ctx: Context, args: { input: { messageId: unknown } }) {
  const roomId = await roomOfMessage(ctx, idOf(args.input.messageId, 'RoomMessage', 'messageId'));
  if (!roomId) return notFound('Message');
  const member = await checkRoom(ctx, roomId);
  if (member !== true) return member;
  const access = (await viewerRoomAccess(ctx, roomId))!;
  if (access.type !== 'DM' && !atLeast(access.role, 'MODERATOR')) return forbidden('Requires the MODERATOR role in this room');
  return access.archived ? archivedRefusal() : true;
}

export const pinsRules = {
  Mutation: { pinMessage: ruleOf('canPinMessage', canPin), unpinMessage: ruleOf('canUnpinMessage', canPin) },
};
