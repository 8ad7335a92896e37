import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { Webhook } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import type { WebhookEventType } from './webhooks.events.ts';
import * as webhooks from './webhooks.service.ts';

export const WebhookEvent = builder.enumType('WebhookEvent', {
  values: {
    ROOM_MESSAGE_ADDED: { description: 'A message was sent in a room of the org (any room, DMs included).' },
    THREAD_MESSAGE_COMPLETED: { description: "An assistant reply in one of the org's threads finished." },
    INVOICE_PAID: { description: "An invoice of a prepaid session opened on one of the org's threads was paid." },
    SESSION_STATE_CHANGED: { description: "A prepaid session on one of the org's threads changed state or balance." },
    KV_KEY_CHANGED: { description: "A key of a KV instance in one of the org's projects was set or deleted." },
    MEMBER_JOINED: { description: 'Someone joined the org (accepted an invite).' },
    MEMBER_LEFT: { description: 'Someone left or was removed from the org.' },
  } satisfies Record<WebhookEventType, unknown>,
});

export const WebhookRef = builder.prismaNode('Webhook', {
  id: { field: 'id' },
  // node(id) of a deleted one is null rather than an error.
  nullable: true,
  description: "An org's outbound webhook (visible to its ADMINs and OWNERs).",
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    events: t.field({ type: [WebhookEvent], resolve: (w) => w.events as WebhookEventType[] }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled webhook gets no new events; its pending deliveries wait.' }),
    secretLast4: t.exposeString('secretLast4', { description: 'The end of the signing secret, to tell secrets apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    org: t.relation('org'),
  }),
});

builder.prismaObjectField('Org', 'webhooks', (t) =>
  t.relatedConnection('webhooks', { cursor: 'id', description: 'Outbound webhooks, newest first (ADMIN and OWNER only).', query: { orderBy: { createdAt: 'desc' } } }),
);

const WebhookSecretPayload = builder.objectRef<{ webhook: Webhook; secret: string }>('WebhookSecretPayload').implement({
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (p) => p.webhook }),
    secret: t.exposeString('secret', { description: 'The signing secret (`whsec_…` when generated), shown only this once.' }),
  }),
});
const DeleteWebhookPayload = builder.simpleObject('DeleteWebhookPayload', { fields: (t) => ({ deletedId: t.id() }) });

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    url: t.string({ required: true, description: 'http or https; loopback and private addresses are refused unless webhooks.allow_private.' }),
    events: t.field({ type: [WebhookEvent], required: true }),
    secret: t.string({ description: 'Your own signing secret (16+ printable characters); generated when absent.' }),
    description: t.string(),
    enabled: t.boolean({ description: 'Default true.' }),
  }),
});
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    url: t.string(),
    events: t.field({ type: [WebhookEvent] }),
    description: t.string({ description: 'null clears it.' }),
    enabled: t.boolean({ description: 'false disables the webhook, true enables it again.' }),
  }),
});
const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  fields: (t) => ({ id: t.id({ required: true }), secret: t.string({ description: 'Generated when absent.' }) }),
});
const DeleteWebhookInput = builder.inputType('DeleteWebhookInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookSecretPayload,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => webhooks.createWebhook(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  updateWebhook: t.prismaField({
    type: 'Webhook',
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const hook = await webhooks.updateWebhook(ctx, idOf(input.id, 'Webhook'), { ...input, id: undefined });
      return db.webhook.findUniqueOrThrow({ ...query, where: { id: hook.id } });
    },
  }),
  rotateWebhookSecret: t.field({
    type: WebhookSecretPayload,
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true }) },
    resolve: (_root, { input }, ctx) => webhooks.rotateWebhookSecret(ctx, idOf(input.id, 'Webhook'), input),
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    args: { input: t.arg({ type: DeleteWebhookInput, required: true }) },
    resolve: async (_root, { input }) => {
      await webhooks.deleteWebhook(idOf(input.id, 'Webhook'));
      return { deletedId: String(input.id) };
    },
  }),
}));
