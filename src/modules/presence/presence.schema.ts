import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, checkOrg, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { topicFeed } from '../../live/feed.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { presenceOf } from './presence.service.ts';
import type { PresenceStatus, PresenceTopics } from './presence.topics.ts';
import { typingOf } from './typing.service.ts';

const Status = builder.enumType('PresenceStatus', { values: ['ONLINE', 'AWAY', 'OFFLINE'] as const });

builder.prismaObjectField('User', 'presence', (t) =>
  t.field({
    type: Status,
    description: 'ONLINE while the user has a live connection (AWAY when their client says so); OFFLINE a short grace period after the last one closes.',
    resolve: (user, _args, ctx) =>
      ctx.loader<string, PresenceStatus>('presence', (ids) => presenceOf(ctx.app).statuses([...ids])).load(user.id),
  }),
);

type PresenceEvent = PresenceTopics['presence:changed'][1];
const PresenceChange = builder.objectRef<PresenceEvent>('PresenceChange').implement({
  fields: (t) => ({
    userId: t.id({ resolve: (e) => encodeGlobalID('User', e.userId) }),
    user: t.field({ type: UserRef, resolve: (e) => db.user.findUniqueOrThrow({ where: { id: e.userId } }) }),
    status: t.field({ type: Status, resolve: (e) => e.status }),
    lastSeenAt: t.field({ type: 'DateTime', nullable: true, resolve: (e) => e.lastSeenAt }),
  }),
});

const SetPresenceInput = builder.inputType('SetPresenceInput', {
  fields: (t) => ({
    status: t.field({ type: builder.enumType('SettablePresence', { values: ['ONLINE', 'AWAY'] as const }), required: true }),
  }),
});
const SetTypingInput = builder.inputType('SetTypingInput', {
  fields: (t) => ({ roomId: t.id({ required: true }), typing: t.boolean({ required: true }) }),
});

builder.mutationFields((t) => ({
  setPresence: t.field({
    type: builder.simpleObject('SetPresencePayload', { fields: (f) => ({ status: f.field({ type: Status }) }) }),
    description: 'Say that you are AWAY (or back). Connecting with connectionParams `{ presence: "AWAY" }` does the same.',
    args: { input: t.arg({ type: SetPresenceInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      status: await presenceOf(ctx.app).setAway(ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', input.status === 'AWAY'),
    }),
  }),
  setTyping: t.field({
    type: builder.simpleObject('SetTypingPayload', { fields: (f) => ({ typing: f.boolean() }) }),
    description: 'Typing indicator: renew it every few seconds while typing; it ends by itself when not renewed.',
    args: { input: t.arg({ type: SetTypingInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({
      typing: await typingOf(ctx.app).set(idOf(input.roomId, 'Room', 'roomId'), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', input.typing),
    }),
  }),
}));

builder.subscriptionFields((t) => ({
  presence: t.field({
    type: PresenceChange,
    description: 'Presence changes of the members of an org.',
    args: { orgId: t.arg.id({ required: true }) },
    subscribe: authorizedSubscribe<{ orgId: unknown }, PresenceEvent>(
      (ctx, args) => checkOrg(ctx, idOf(args.orgId, 'Org', 'orgId'), { scope: 'READ' }),
      (args, ctx) => topicFeed(ctx.app.pubsub, 'presence:changed', idOf(args.orgId, 'Org', 'orgId')),
    ),
    resolve: (e) => e,
  }),
}));
