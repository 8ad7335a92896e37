import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, orgRule, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';

const ownsNotification = ruleOf('ownsNotification', async (ctx, args) => {
  if (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session') return unauthenticated();
  if (ctx.viewer.kind !== 'user') return forbidden('Notifications are for users');
  const n = await db.notification.findUnique({ where: { id: idOf(args.input.notificationId, 'Notification', 'notificationId') }, select: { userId: true } });
  return n?.userId === ctx.viewer.userId || notFound('Notification');
});

export const notificationsPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      notify: orgRule('canNotify', (a) => a.input.orgId, { role: 'ADMIN', scope: 'NOTIFY' }),
      subscribeTopic: orgRule('canSubscribeTopic', (a) => a.input.orgId),
      unsubscribeTopic: orgRule('canUnsubscribeTopic', (a) => a.input.orgId),
      ackNotification: ownsNotification,
    },
    // Authorized when it starts: users only, each hears only their own.
    Subscription: { notifications: allow },
    Notification: { '*': allow },
    TopicSubscription: { '*': allow },
    NotifyPayload: { '*': allow },
    UnsubscribeTopicPayload: { '*': allow },
  },
  nodes: {
    Notification: (ctx, n: { userId: string }) => ctx.viewer.kind === 'user' && ctx.viewer.userId === n.userId,
    TopicSubscription: (ctx, s: { userId: string }) => ctx.viewer.kind === 'user' && ctx.viewer.userId === s.userId,
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: { Subscription: ['notifications'], Notification: '*' },
};
