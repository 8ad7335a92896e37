import type { db, Tx } from '../../db/client.ts';
import { appError } from '../../errors.ts';

/** A stored ban or mute is in force until it expires (null: until lifted); expired rows are simply not in force. */
export const inForce = (now = new Date()) => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });

/** Of `userIds`, those banned from the room now. Read in the transaction that adds them, so a ban racing it is seen. */
export async function bannedAmong(client: Tx | typeof db, roomId: string, userIds: string[]): Promise<string[]> {
  if (!userIds.length) return [];
  const rows = await client.roomBan.findMany({ where: { roomId, userId: { in: userIds }, ...inForce() }, select: { userId: true } });
  return rows.map((r) => r.userId);
}

/** FORBIDDEN with reason BANNED: the person may not join or be added until the ban expires or is lifted. */
export const bannedError = (who: 'you' | 'someone') =>
  appError('FORBIDDEN', who === 'you' ? 'You are banned from this room' : 'Someone named is banned from this room', { reason: 'BANNED' });
