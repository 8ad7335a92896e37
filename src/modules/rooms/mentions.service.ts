import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db, Prisma, readRows } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import type { RoomMessage, User } from '../../generated/sqlite/client.ts';
import { createNotifications } from '../notifications/notifications.service.ts';
import { viewerRoomAccess } from './rooms.access.ts';

/** The most people one message may mention (after duplicates are collapsed). */
export const MAX_MENTIONS = 50;
/** How much of the content a mention's notification carries. */
const SNIPPET_CHARS = 140;

/** sendMessage's `mentionIds` as raw user ids: decoded, duplicates collapsed, at most MAX_MENTIONS (BAD_USER_INPUT otherwise). */
export function mentionIdsOf(ids: readonly unknown[] | null | undefined): string[] {
  if (!ids?.length) return [];
  const distinct = [...new Set(ids.map((id) => idOf(id, 'User', 'mentionIds')))];
  if (distinct.length > MAX_MENTIONS) throw badInput(`mentionIds: at most ${MAX_MENTIONS} people per message`, 'mentionIds');
  return distinct;
}

/**
 * Everyone mentioned must be a member of the room and of its org (a member removed from the org still has
 * no access to the room): BAD_USER_INPUT naming `mentionIds` otherwise, before anything is stored. Returns
 * the room's org. One statement (the viewer's access to the room was read by the permission rule).
 */
export async function checkMentions(ctx: Context, roomId: string, userIds: string[]): Promise<string> {
  const orgId = (await viewerRoomAccess(ctx, roomId))?.orgId;
  if (!orgId) throw badInput('mentionIds: no such room', 'mentionIds');
  const found = await db.roomMember.count({ where: { roomId, userId: { in: userIds }, user: { memberships: { some: { orgId } } } } });
  if (found !== userIds.length) throw badInput('mentionIds: everyone mentioned must be a member of the room', 'mentionIds');
  return orgId;
}

/**
 * The start of a message's text on one line (whitespace runs become one space), at most SNIPPET_CHARS
 * characters: for mention notifications, and for the inbox's room list.
 */
export function snippetOf(content: string): string {
  const chars = [...content.replace(/\s+/g, ' ').trim()];
  return chars.length <= SNIPPET_CHARS ? chars.join('') : `${chars.slice(0, SNIPPET_CHARS - 1).join('').trimEnd()}…`;
}

/**
 * After the commit: a `mention` notification for each mentioned member but the author. Never blocks or
 * fails the send: it runs on its own, and a failure is logged.
 */
export function notifyMentions(ctx: Context, orgId: string, message: RoomMessage, mentionIds: string[]): void {
  const userIds = mentionIds.filter((id) => id !== message.senderId);
  if (!userIds.length) return;
  const payload = {
    roomId: encodeGlobalID('Room', message.roomId),
    messageId: encodeGlobalID('RoomMessage', message.id),
    seq: message.seq,
    authorId: encodeGlobalID('User', message.senderId),
    snippet: snippetOf(message.content),
  };
  createNotifications(ctx.app, orgId, userIds, 'mention', payload).catch((err: unknown) =>
    ctx.log.error({ err, roomId: message.roomId, seq: message.seq }, 'creating mention notifications failed'),
  );
}

/** The people a message mentions (for RoomMessage.mentions), one query per operation however many messages. */
export function mentionedUsers(ctx: Context, messageId: string): Promise<User[]> {
  return ctx
    .loader<string, User[]>('mentionedUsers', async (ids) => {
      const rows = await db.roomMention.findMany({
        where: { messageId: { in: [...ids] } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { messageId: true, user: true },
      });
      const byMessage = new Map<string, User[]>();
      for (const r of rows) byMessage.set(r.messageId, [...(byMessage.get(r.messageId) ?? []), r.user]);
      return ids.map((id) => byMessage.get(id) ?? []);
    })
    .load(messageId);
}

/** Users by id, for mentions known from a live event (MessageJson.mentionIds). */
export function usersById(ctx: Context, ids: string[]): Promise<User[]> {
  const loader = ctx.loader<string, User | null>('mentionUserById', async (keys) => {
    const rows = await db.user.findMany({ where: { id: { in: [...keys] } } });
    const byId = new Map(rows.map((u) => [u.id, u]));
    return keys.map((k) => byId.get(k) ?? null);
  });
  return Promise.all(ids.map((id) => loader.load(id))).then((users) => users.filter((u): u is User => u !== null));
}

/** Does this message mention the viewer? One query per operation (the viewer's mentions among the messages asked). */
export function mentionsViewer(ctx: Context, messageId: string): Promise<boolean> {
  if (ctx.viewer.kind !== 'user') return Promise.resolve(false);
  const userId = ctx.viewer.userId;
  return ctx
    .loader<string, boolean>('mentionsViewer', async (ids) => {
      const rows = await db.roomMention.findMany({ where: { userId, messageId: { in: [...ids] } }, select: { messageId: true } });
      const mentioned = new Set(rows.map((r) => r.messageId));
      return ids.map((id) => mentioned.has(id));
    })
    .load(messageId);
}

/**
 * Unread mentions per room for one user: mentions of them with a seq above their read marker (so marking the
 * room read clears them). One statement for any number of rooms; rooms without any are absent.
 */
export async function unreadMentionCounts(userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
  if (!roomIds.length) return new Map();
  const rows = await readRows(Prisma.sql`
    SELECT n."roomId", COUNT(*) FROM "RoomMention" n
      JOIN "RoomMember" m ON m."roomId" = n."roomId" AND m."userId" = n."userId"
    WHERE n."userId" = ${userId} AND n."roomId" IN (${Prisma.join([...roomIds])}) AND n."seq" > m."lastReadSeq"
    GROUP BY n."roomId"`);
  return new Map(rows.map((r) => [String(r[0]), Number(r[1])]));
}

/** The viewer's unread mentions in a room (Room.mentionCount), batched over the rooms of one operation. */
export function viewerMentionCount(ctx: Context, roomId: string): Promise<number> {
  if (ctx.viewer.kind !== 'user') return Promise.resolve(0);
  const userId = ctx.viewer.userId;
  return ctx
    .loader<string, number>('viewerMentionCount', async (roomIds) => {
      const counts = await unreadMentionCounts(userId, roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    })
    .load(roomId);
}
