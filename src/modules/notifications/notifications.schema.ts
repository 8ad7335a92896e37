import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { forbidden, unauthenticated } from '../../errors.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import * as notifications from './notifications.service.ts';
import type { NotificationJson } from './notifications.topics.ts';

const NotificationRef = builder.prismaNode('Notification', {
  id: { field: 'id' },
  fields: (t) => ({
    topic: t.exposeString('topic'),
    payload: t.expose('payload', { type: 'JSON' }),
    org: t.relation('org'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    ackedAt: t.expose('ackedAt', { type: 'DateTime', nullable: true }),
    acked: t.boolean({ resolve: (n) => n.ackedAt !== null }),
  }),
});

builder.prismaObject('TopicSubscription', {
  fields: (t) => ({ topic: t.exposeString('topic'), org: t.relation('org'), createdAt: t.expose('createdAt', { type: 'DateTime' }) }),
});

builder.prismaObjectField('User', 'notifications', (t) =>
  t.prismaConnection({
    type: 'Notification',
    cursor: 'id',
    description: 'Your notifications, newest first (only readable on yourself).',
    args: { unackedOnly: t.arg.boolean({ defaultValue: false }) },
    resolve: (query, user, args) =>
      db.notification.findMany({
        ...query,
        where: { userId: user.id, ...(args.unackedOnly ? { ackedAt: null } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }),
);

const NotifyTargets = builder.inputType('NotifyTargets', {
  fields: (t) => ({
    userIds: t.idList({ description: 'Members of the org.' }),
    roomId: t.id({ description: 'Every member of this room (in the org).' }),
    topicSubscribers: t.boolean({ description: 'Everyone in the org subscribed to the topic.' }),
  }),
});
const NotifyInput = builder.inputType('NotifyInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    topic: t.string({ required: true }),
    payload: t.field({ type: 'JSON', required: true }),
    targets: t.field({ type: NotifyTargets, required: true }),
  }),
});
const TopicInput = builder.inputType('TopicInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), topic: t.string({ required: true }) }),
});
const AckInput = builder.inputType('AckNotificationInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const viewerId = (ctx: { viewer: { kind: string; userId?: string } }) => ctx.viewer.userId ?? '';

builder.mutationFields((t) => ({
  notify: t.field({
    type: builder.simpleObject('NotifyPayload', { fields: (f) => ({ topic: f.string(), recipientCount: f.int() }) }),
    description: 'Sends a durable notification (org ADMINs, or API keys with the NOTIFY scope).',
    args: { input: t.arg({ type: NotifyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      notifications.notify(ctx, idOf(input.orgId, 'Org', 'orgId'), {
        topic: input.topic,
        payload: input.payload,
        targets: {
          userIds: (input.targets.userIds ?? []).map((id) => idOf(id, 'User', 'targets.userIds')),
          roomId: input.targets.roomId ? idOf(input.targets.roomId, 'Room', 'targets.roomId') : null,
          topicSubscribers: input.targets.topicSubscribers,
        },
      }),
  }),
  subscribeTopic: t.prismaField({
    type: 'TopicSubscription',
    args: { input: t.arg({ type: TopicInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const s = await notifications.subscribeTopic(viewerId(ctx), idOf(input.orgId, 'Org', 'orgId'), input.topic);
      return db.topicSubscription.findUniqueOrThrow({ ...query, where: { id: s.id } });
    },
  }),
  unsubscribeTopic: t.field({
    type: builder.simpleObject('UnsubscribeTopicPayload', { fields: (f) => ({ removed: f.boolean() }) }),
    args: { input: t.arg({ type: TopicInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      removed: await notifications.unsubscribeTopic(viewerId(ctx), idOf(input.orgId, 'Org', 'orgId'), input.topic),
    }),
  }),
  ackNotification: t.prismaField({
    type: 'Notification',
    args: { input: t.arg({ type: AckInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const n = await notifications.ackNotification(viewerId(ctx), idOf(input.id, 'Notification'));
      return db.notification.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  notifications: t.field({
    type: NotificationRef,
    description: 'Your unacknowledged notifications first (oldest first), then new ones as they are sent.',
    args: { orgId: t.arg.id({ description: 'Only this org’s.' }) },
    subscribe: authorizedSubscribe<{ orgId?: unknown }, NotificationJson>(
      (ctx) =>
        ctx.viewer.kind === 'user' ||
        (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session' ? unauthenticated() : forbidden('Notifications are for users')),
      (args, ctx) => notifications.notificationFeed(ctx, viewerId(ctx), args.orgId ? idOf(args.orgId, 'Org', 'orgId') : undefined),
    ),
    resolve: (n) => notifications.fromJson(n),
  }),
}));
