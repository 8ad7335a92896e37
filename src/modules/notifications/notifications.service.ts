import { z } from 'zod';
import type { AppServices, Context } from '../../context.ts';
import { db, type Prisma } from '../../db/client.ts';
import type { Notification } from '../../generated/sqlite/client.ts';
import { badInput, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { openFeed, type Feed } from '../../live/feed.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import { pushNotifications } from '../push/push.service.ts';
import { jsonWithin } from '../../validation.ts';
import type { NotificationJson } from './notifications.topics.ts';

const topic = z
  .string()
  .trim()
  .regex(/^[\w.:/-]{1,100}$/, 'must be 1-100 letters, digits, and . : / _ -');

export interface NotifyTargets {
  userIds?: string[];
  roomId?: string | null;
  topicSubscribers?: boolean | null;
}

export const toJson = (n: Notification): NotificationJson => ({
  id: n.id,
  orgId: n.orgId,
  userId: n.userId,
  topic: n.topic,
  payload: n.payload,
  createdAt: n.createdAt.toISOString(),
  ackedAt: n.ackedAt?.toISOString() ?? null,
});

export const fromJson = (n: NotificationJson): Notification => ({
  ...n,
  payload: n.payload as Notification['payload'],
  createdAt: new Date(n.createdAt),
  ackedAt: n.ackedAt ? new Date(n.ackedAt) : null,
});

/**
 * Stores one notification per recipient (the union of the targets, members of the org only), then
 * announces each. Stored first, so a recipient who is not connected gets it when they subscribe.
 */
export async function notify(ctx: Context, orgId: string, input: { topic: string; payload: unknown; targets: NotifyTargets }) {
  const data = parseInput(z.object({ topic, payload: jsonWithin(ctx.app.config.rooms.maxMetaBytes) }), input);
  const { userIds = [], roomId, topicSubscribers } = input.targets;
  if (!userIds.length && !roomId && !topicSubscribers) throw badInput('targets: name userIds, a roomId or topicSubscribers', 'targets');
  const recipients = new Set<string>();
  if (userIds.length) {
    const found = await db.membership.findMany({ where: { orgId, userId: { in: userIds } }, select: { userId: true } });
    if (found.length !== new Set(userIds).size) throw badInput('targets.userIds: everyone must be a member of the org', 'targets.userIds');
    found.forEach((m) => recipients.add(m.userId));
  }
  if (roomId) {
    const room = await db.room.findFirst({ where: { id: roomId, orgId }, select: { members: { select: { userId: true } } } });
    if (!room) throw badInput('targets.roomId: no such room in this org', 'targets.roomId');
    room.members.forEach((m) => recipients.add(m.userId));
  }
  if (topicSubscribers) {
    const subs = await db.topicSubscription.findMany({ where: { orgId, topic: data.topic }, select: { userId: true } });
    subs.forEach((s) => recipients.add(s.userId));
  }
  const rows = await createNotifications(ctx.app, orgId, [...recipients], data.topic, data.payload);
  return { topic: data.topic, recipientCount: rows.length };
}

/**
 * Stores one notification per user (already checked to be members of the org) and announces them: the one
 * way notifications come to be (`notify`, mentions), so everything that follows a notification (the
 * `notifications` subscription, the inbox, Web Push) hangs off `announceNotifications`.
 */
export async function createNotifications(app: AppServices, orgId: string, userIds: string[], topic: string, payload: unknown): Promise<Notification[]> {
  if (!userIds.length) return [];
  const json = (payload ?? null) as Prisma.InputJsonValue;
  const rows = await db.notification.createManyAndReturn({ data: userIds.map((userId) => ({ orgId, userId, topic, payload: json })) });
  announceNotifications(app, rows);
  return rows;
}

/** After the notifications are stored: tells each recipient's live streams. */
export function announceNotifications(app: AppServices, rows: Notification[]) {
  for (const n of rows) app.pubsub.publish('notification:created', n.userId, toJson(n));
  // Each recipient's inbox log (appendInbox logs its own failures; nothing waits for it).
  void appendInbox(app, rows.map((n) => ({ userId: n.userId, kind: 'NotificationCreated', payload: { notificationId: n.id } })));
  pushNotifications(app, rows);
}

export async function subscribeTopic(userId: string, orgId: string, rawTopic: string) {
  const t = parseInput(z.object({ topic }), { topic: rawTopic }).topic;
  const where = { orgId_topic_userId: { orgId, topic: t, userId } };
  try {
    return await db.topicSubscription.upsert({ where, create: { orgId, topic: t, userId }, update: {} });
  } catch (err) {
    if (isUniqueViolation(err)) return db.topicSubscription.findUniqueOrThrow({ where });
    throw err;
  }
}

export async function unsubscribeTopic(userId: string, orgId: string, rawTopic: string) {
  const t = parseInput(z.object({ topic }), { topic: rawTopic }).topic;
  const subscription = await db.topicSubscription.findUnique({ where: { orgId_topic_userId: { orgId, topic: t, userId } }, select: { id: true } });
  // deleteMany: a concurrent unsubscribe may have removed it since; the one that removes it answers.
  if (!subscription || !(await db.topicSubscription.deleteMany({ where: { id: subscription.id } })).count) throw notFound('Topic subscription');
  return subscription.id;
}

/** Idempotent: acknowledging twice keeps the first time. */
export async function ackNotification(userId: string, id: string) {
  const n = await db.notification.findUnique({ where: { id } });
  if (!n || n.userId !== userId) throw notFound('Notification');
  if (n.ackedAt) return n;
  return db.notification.update({ where: { id }, data: { ackedAt: new Date() } });
}

/**
 * The viewer's notifications: every unacknowledged one stored so far (oldest first), then live ones,
 * each once. Listens before reading, so one created meanwhile is not missed.
 */
export function notificationFeed(ctx: Context, userId: string, orgId?: string): Feed<NotificationJson> {
  const seen = new Set<string>();
  return openFeed<NotificationJson>(ctx.app.pubsub, (f) => {
    f.listen('notification:created', userId, (n) => {
      if (seen.has(n.id) || (orgId && n.orgId !== orgId)) return;
      f.push(n);
    });
    return async () => {
      const stored = await db.notification.findMany({ where: { userId, ackedAt: null, ...(orgId ? { orgId } : {}) }, orderBy: { createdAt: 'asc' } });
      for (const n of stored) {
        seen.add(n.id);
        f.push(toJson(n));
      }
    };
  });
}
