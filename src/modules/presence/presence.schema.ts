import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, checkOrg, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { topicFeed } from '../../live/feed.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { presenceOf } from './presence.service.ts';
import type { PresenceStatus, PresenceTopics } from './presence.topics.ts';
import { typingOf } from './typing.service.ts';

const Status = builder.enumType('PresenceStatus', {
  description: 'Whether someone is around.',
  values: {
    ONLINE: { description: 'They have a live connection.' },
    AWAY: { description: 'They have a live connection but said they are away (`setPresence`, or connectionParams `{ presence: "AWAY" }`).' },
    OFFLINE: { description: 'No live connection since a short grace period.' },
  } as const,
});

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
  description: "A member of the org came online, went away or offline (the `presence` subscription's event).",
  fields: (t) => ({
    userId: t.id({ description: 'The global ID of the member.', resolve: (e) => encodeGlobalID('User', e.userId) }),
    user: t.field({ type: UserRef, description: 'The member.', resolve: (e) => db.user.findUniqueOrThrow({ where: { id: e.userId } }) }),
    status: t.field({ type: Status, description: 'Their new status.', resolve: (e) => e.status }),
    lastSeenAt: t.field({ type: 'DateTime', nullable: true, description: 'When their last connection closed (with OFFLINE); null while connected.', resolve: (e) => e.lastSeenAt }),
  }),
});

const SettablePresence = builder.enumType('SettablePresence', {
  description: 'The statuses you can set yourself (OFFLINE follows from closing your connections).',
  values: {
    ONLINE: { description: 'Back: ONLINE while you have a live connection.' },
    AWAY: { description: 'Away, while your connections stay open.' },
  } as const,
});
const SetPresenceInput = builder.inputType('SetPresenceInput', {
  description: 'Your presence status.',
  fields: (t) => ({
    status: t.field({ type: SettablePresence, required: true, description: 'AWAY, or ONLINE to come back.' }),
  }),
});
const SetTypingInput = builder.inputType('SetTypingInput', {
  description: 'Whether you are typing in a room.',
  fields: (t) => ({
    roomId: t.id({ required: true, description: 'A room you are a member of (NOT_FOUND otherwise).' }),
    typing: t.boolean({ required: true, description: 'True while typing (renew every few seconds), false when you stopped or sent.' }),
  }),
});

builder.mutationFields((t) => ({
  setPresence: t.field({
    type: builder.simpleObject('SetPresencePayload', {
      description: 'The result of `setPresence`.',
      fields: (f) => ({ status: f.field({ type: Status, description: 'Your status now (OFFLINE when you have no live connection).' }) }),
    }),
    description: 'Say that you are AWAY (or back). Connecting with connectionParams `{ presence: "AWAY" }` does the same.',
    args: { input: t.arg({ type: SetPresenceInput, required: true, description: 'The status to set.' }) },
    resolve: async (_root, { input }, ctx) => ({
      status: await presenceOf(ctx.app).setAway(ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', input.status === 'AWAY'),
    }),
  }),
  setTyping: t.field({
    type: builder.simpleObject('SetTypingPayload', {
      description: 'The result of `setTyping`.',
      fields: (f) => ({ typing: f.boolean({ description: 'Whether the room now sees you typing.' }) }),
    }),
    description: "Typing indicator: renew it every few seconds while typing; it ends by itself when not renewed. The room's other members hear a TypingChanged event.",
    args: { input: t.arg({ type: SetTypingInput, required: true, description: 'The room and whether you type.' }) },
    resolve: async (_root, { input }, ctx) => ({
      typing: await typingOf(ctx.app).set(idOf(input.roomId, 'Room', 'roomId'), ctx.viewer.kind === 'user' ? ctx.viewer.userId : '', input.typing),
    }),
  }),
}));

builder.subscriptionFields((t) => ({
  presence: t.field({
    type: PresenceChange,
    description: 'Presence changes of the members of an org (members of the org, and its API keys with READ).',
    args: { orgId: t.arg.id({ required: true, description: 'The org whose members to follow.' }) },
    subscribe: authorizedSubscribe<{ orgId: unknown }, PresenceEvent>(
      (ctx, args) => checkOrg(ctx, idOf(args.orgId, 'Org', 'orgId'), { scope: 'READ' }),
      (args, ctx) => topicFeed(ctx.app.pubsub, 'presence:changed', idOf(args.orgId, 'Org', 'orgId')),
    ),
    resolve: (e) => e,
  }),
}));
