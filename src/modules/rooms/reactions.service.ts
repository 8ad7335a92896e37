import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { gone, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { requireUserId } from './rooms.access.ts';
import { messageToJson } from './rooms.topics.ts';

const emoji = z.string().trim().min(1, 'is required').max(32, 'must be at most 32 characters').regex(/^\S+$/, 'must not contain spaces');

/** One reaction per emoji per person; adding twice or removing what is not there changes nothing. */
export async function setReaction(ctx: Context, messageId: string, rawEmoji: string, add: boolean) {
  const userId = requireUserId(ctx);
  const e = parseInput(z.object({ emoji }), { emoji: rawEmoji }).emoji;
  const message = await db.roomMessage.findUnique({ where: { id: messageId } });
  if (!message) throw notFound('Message');
  if (message.deletedAt) throw gone('This message was deleted');
  let changed = false;
  if (add) {
    try {
      await db.roomReaction.create({ data: { messageId, userId, emoji: e } });
      changed = true;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  } else {
    changed = (await db.roomReaction.deleteMany({ where: { messageId, userId, emoji: e } })).count > 0;
  }
  if (changed) {
    const count = await db.roomReaction.count({ where: { messageId, emoji: e } });
    ctx.app.pubsub.publish('room:event', message.roomId, {
      kind: 'ReactionChanged',
      message: messageToJson(message),
      userId,
      emoji: e,
      added: add,
      count,
    });
  }
  return message;
}
