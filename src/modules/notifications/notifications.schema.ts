import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { forbidden, unauthenticated } from '../../errors.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import * as notifications from './notifications.service.ts';
import type { NotificationJson } from './notifications.topics.ts';

const NotificationRef = builder.prismaNode('Notification', {
  id: { field: 'id' },
  description: 'A durable message to one user from their org (sent with `notify`), kept until they acknowledge it and after.',
  fields: (t) => ({
    topic: t.exposeString('topic', { description: 'What it is about, chosen by the sender (`billing.invoice`); subscribers of a topic may be its recipients.' }),
    payload: t.expose('payload', { type: 'JSON', description: "The sender's own data, exactly as sent." }),
    org: t.relation('org', { description: 'The org that sent it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was sent.' }),
    ackedAt: t.expose('ackedAt', { type: 'DateTime', nullable: true, description: 'When you acknowledged it; null until you do.' }),
    acked: t.boolean({ description: 'Whether you acknowledged it (`ackNotification`).', resolve: (n) => n.ackedAt !== null }),
  }),
});

builder.prismaNode('TopicSubscription', {
  id: { field: 'id' },
  description: 'Your subscription to a topic of an org: `notify` with `topicSubscribers` reaches you.',
  fields: (t) => ({
    topic: t.exposeString('topic', { description: 'The topic subscribed to.' }),
    org: t.relation('org', { description: 'The org whose notifications on the topic reach you.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When you subscribed.' }),
  }),
});

builder.prismaObjectField(ViewerRef, 'notifications', (t) =>
  t.prismaConnection({
    type: 'Notification',
    cursor: 'id',
    description: 'Your notifications, newest first (only readable on yourself).',
    args: { unackedOnly: t.arg.boolean({ defaultValue: false, description: 'Only those you have not acknowledged yet.' }) },
    resolve: (query, user, args) =>
      db.notification.findMany({
        ...query,
        where: { userId: user.id, ...(args.unackedOnly ? { ackedAt: null } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
  }, { name: 'NotificationConnection', description: 'A page of notifications.' }, { name: 'NotificationEdge', description: 'A notification and its cursor.' }),
);

const NotifyTargets = builder.inputType('NotifyTargetsInput', {
  description: 'Who receives a notification: the union of the targets given, each person once (at least one target, BAD_USER_INPUT otherwise).',
  fields: (t) => ({
    userIds: t.idList({ description: 'Members of the org; someone else is BAD_USER_INPUT.' }),
    roomId: t.id({ description: 'Every member of this room (a room of the org; BAD_USER_INPUT otherwise).' }),
    topicSubscribers: t.boolean({ description: 'Everyone in the org subscribed to the topic.' }),
  }),
});
const NotifyInput = builder.inputType('NotifyInput', {
  description: 'A notification to send.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org sending it; its recipients must be its members.' }),
    topic: t.string({ required: true, description: 'What it is about: 1-100 letters, digits and `. : / _ -` (BAD_USER_INPUT otherwise).' }),
    payload: t.field({ type: 'JSON', required: true, description: 'Your own data, delivered as is.' }),
    targets: t.field({ type: NotifyTargets, required: true, description: 'Who receives it.' }),
  }),
});
const SubscribeTopicInput = builder.inputType('SubscribeTopicInput', {
  description: 'The topic to subscribe to.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'An org you are a member of.' }),
    topic: t.string({ required: true, description: 'The topic, as `notify` names it.' }),
  }),
});
const UnsubscribeTopicInput = builder.inputType('UnsubscribeTopicInput', {
  description: 'The topic to unsubscribe from.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org of the subscription.' }),
    topic: t.string({ required: true, description: 'The topic subscribed to.' }),
  }),
});
const AckInput = builder.inputType('AckNotificationInput', {
  description: 'The notification to acknowledge.',
  fields: (t) => ({ notificationId: t.id({ required: true, description: 'One of your notifications.' }) }),
});

const NotifyPayload = builder.simpleObject('NotifyPayload', {
  description: 'What `notify` sent.',
  fields: (f) => ({
    topic: f.string({ description: 'The topic sent.' }),
    recipientCount: f.int({ description: 'How many users received it (each once).' }),
  }),
});
const UnsubscribeTopicPayload = builder.simpleObject('UnsubscribeTopicPayload', {
  description: 'The subscription removed by `unsubscribeTopic`.',
  fields: (f) => ({ deletedId: f.id({ description: 'The ID of the TopicSubscription that is gone.' }) }),
});

const viewerId = (ctx: { viewer: { kind: string; userId?: string } }) => ctx.viewer.userId ?? '';

builder.mutationFields((t) => ({
  notify: t.field({
    type: NotifyPayload,
    description:
      'Sends a durable notification to members of an org (org ADMINs, or API keys with the NOTIFY scope); each recipient hears it on ' +
      'the `notifications` subscription and finds it in `me.notifications`. FORBIDDEN without the role or scope.',
    args: { input: t.arg({ type: NotifyInput, required: true, description: 'What to send and to whom.' }) },
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
    description: 'Subscribes you to a topic of one of your orgs (idempotent: subscribing twice returns the same subscription).',
    args: { input: t.arg({ type: SubscribeTopicInput, required: true, description: 'The org and topic.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const s = await notifications.subscribeTopic(viewerId(ctx), idOf(input.orgId, 'Org', 'orgId'), input.topic);
      return db.topicSubscription.findUniqueOrThrow({ ...query, where: { id: s.id } });
    },
  }),
  unsubscribeTopic: t.field({
    type: UnsubscribeTopicPayload,
    description: 'Unsubscribes you from a topic of one of your orgs. NOT_FOUND when you are not subscribed to it.',
    args: { input: t.arg({ type: UnsubscribeTopicInput, required: true, description: 'The org and topic.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await notifications.unsubscribeTopic(viewerId(ctx), idOf(input.orgId, 'Org', 'orgId'), input.topic);
      return { deletedId: encodeGlobalID('TopicSubscription', id) };
    },
  }),
  ackNotification: t.prismaField({
    type: 'Notification',
    description: 'Marks one of your notifications as read (idempotent: the first time is kept). NOT_FOUND for anyone else\'s.',
    args: { input: t.arg({ type: AckInput, required: true, description: 'The notification.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const n = await notifications.ackNotification(viewerId(ctx), idOf(input.notificationId, 'Notification', 'notificationId'));
      return db.notification.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
}));

builder.subscriptionFields((t) => ({
  notifications: t.field({
    type: NotificationRef,
    description: 'Your unacknowledged notifications first (oldest first), then new ones as they are sent.',
    args: { orgId: t.arg.id({ description: 'Only the notifications of this org.' }) },
    subscribe: authorizedSubscribe<{ orgId?: unknown }, NotificationJson>(
      (ctx) =>
        ctx.viewer.kind === 'user' ||
        (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session' ? unauthenticated() : forbidden('Notifications are for users')),
      (args, ctx) => notifications.notificationFeed(ctx, viewerId(ctx), args.orgId ? idOf(args.orgId, 'Org', 'orgId') : undefined),
    ),
    resolve: (n) => notifications.fromJson(n),
  }),
}));
