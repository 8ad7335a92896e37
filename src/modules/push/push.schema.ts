import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf, requireUserId } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import * as push from './push.service.ts';

builder.prismaNode('PushSubscription', {
  id: { field: 'id' },
  description:
    'A browser (or device) that receives your Web Push notifications (`registerPushSubscription`). Only you can see it. It is ' +
    'removed when the push service says it is gone (404 or 410), when you unregister it, or when you register more than the ' +
    'server keeps per user (your oldest goes).',
  fields: (t) => ({
    endpoint: t.exposeString('endpoint', { description: "The push service's URL for this browser, as `PushManager.subscribe` gave it." }),
    userAgent: t.exposeString('userAgent', { nullable: true, description: 'The browser it belongs to, as the client said when registering; null when it did not.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was last registered (registering it again renews it).' }),
    lastPushAt: t.expose('lastPushAt', { type: 'DateTime', nullable: true, description: 'When the push service last accepted a push for it; null before the first.' }),
  }),
});

const PushConfigRef = builder.objectRef<{ enabled: boolean; vapidPublicKey: string | null }>('PushConfig').implement({
  description: "This server's Web Push settings, as a browser needs them to subscribe (readable by anyone).",
  fields: (t) => ({
    id: t.id({ description: 'Global ID of the configuration, derived from its key.', resolve: (c) => encodeGlobalID('PushConfig', c.vapidPublicKey ?? 'disabled') }),
    enabled: t.exposeBoolean('enabled', { description: 'Whether the server sends pushes. When false, nothing is pushed and there is no key.' }),
    vapidPublicKey: t.exposeString('vapidPublicKey', {
      nullable: true,
      description: "The server's VAPID public key (URL-safe base64): pass it to `PushManager.subscribe` as `applicationServerKey`. Null when push is disabled.",
    }),
  }),
});

const RegisterInput = builder.inputType('RegisterPushSubscriptionInput', {
  description: "A browser's push subscription, as `PushSubscription.toJSON()` gives it.",
  fields: (t) => ({
    endpoint: t.string({
      required: true,
      description:
        'The push service URL: https, at most 2048 characters, on a public address (BAD_USER_INPUT otherwise). Registering an ' +
        'endpoint again updates it; one registered by someone else moves to you.',
    }),
    p256dh: t.string({ required: true, description: "The browser's P-256 public key (`keys.p256dh`, base64url: 65 bytes decoded; BAD_USER_INPUT otherwise)." }),
    auth: t.string({ required: true, description: 'The authentication secret (`keys.auth`, base64url: 16 bytes decoded; BAD_USER_INPUT otherwise).' }),
    userAgent: t.string({ description: 'Which browser this is, to tell your subscriptions apart (at most 500 characters).' }),
  }),
});

const UnregisterInput = builder.inputType('UnregisterPushSubscriptionInput', {
  description: 'The subscription to remove: give exactly one of `pushSubscriptionId` and `endpoint` (BAD_USER_INPUT otherwise).',
  fields: (t) => ({
    pushSubscriptionId: t.id({ description: 'One of your push subscriptions.' }),
    endpoint: t.string({ description: "One of your subscriptions' endpoint (what the browser knows after `unsubscribe()`)." }),
  }),
});

const UnregisterPayload = builder.simpleObject('UnregisterPushSubscriptionPayload', {
  description: 'The subscription removed by `unregisterPushSubscription`.',
  fields: (f) => ({ deletedId: f.id({ description: 'The ID of the PushSubscription that is gone.' }) }),
});

builder.prismaObjectField(ViewerRef, 'pushSubscriptions', (t) =>
  t.prismaField({
    type: ['PushSubscription'],
    description: 'The browsers that receive your Web Push notifications, newest first (a short list: the server keeps a few per user).',
    resolve: (query, user) => db.pushSubscription.findMany({ ...query, where: { userId: user.id }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

builder.queryFields((t) => ({
  pushConfig: t.field({
    type: PushConfigRef,
    description: 'Whether this server sends Web Push, and the VAPID public key browsers subscribe with. Public: no sign-in needed.',
    resolve: (_root, _args, ctx) => push.pushConfigOf(ctx.app),
  }),
}));

builder.mutationFields((t) => ({
  registerPushSubscription: t.prismaField({
    type: 'PushSubscription',
    description:
      'Registers this browser for Web Push: mentions, DMs and notifications are pushed to it while you have no open WebSocket. ' +
      'Idempotent on the endpoint. Signed-in users only (UNAUTHENTICATED without a sign-in, FORBIDDEN for API keys). ' +
      'BAD_USER_INPUT for an endpoint that is not https or reaches a private address, or keys of the wrong size.',
    args: { input: t.arg({ type: RegisterInput, required: true, description: 'The subscription, as the browser gave it.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const sub = await push.registerSubscription(ctx.app, requireUserId(ctx), input);
      // Scalars only: the stored row answers too, should a newer registration racing past the limit have removed it.
      return (await db.pushSubscription.findUnique({ ...query, where: { id: sub.id } })) ?? sub;
    },
  }),
  unregisterPushSubscription: t.field({
    type: UnregisterPayload,
    description:
      'Removes one of your push subscriptions (call it when the browser unsubscribes, or on sign-out). NOT_FOUND for one that is ' +
      'not yours or no longer exists.',
    args: { input: t.arg({ type: UnregisterInput, required: true, description: 'The subscription, by ID or endpoint.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await push.unregisterSubscription(requireUserId(ctx), {
        id: input.pushSubscriptionId ? idOf(input.pushSubscriptionId, 'PushSubscription', 'pushSubscriptionId') : null,
        endpoint: input.endpoint,
      });
      return { deletedId: encodeGlobalID('PushSubscription', id) };
    },
  }),
}));
