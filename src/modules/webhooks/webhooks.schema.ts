import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { Webhook } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import type { WebhookEventType } from './webhooks.events.ts';
import * as webhooks from './webhooks.service.ts';

export const WebhookEvent = builder.enumType('WebhookEvent', {
  description: 'A kind of event a webhook can receive (its body\'s `type`).',
  values: {
    ROOM_MESSAGE_ADDED: { description: 'A message was sent in a room of the org (any room, DMs included).' },
    THREAD_MESSAGE_COMPLETED: { description: "An assistant reply in one of the org's threads finished." },
    INVOICE_PAID: { description: "An invoice of a prepaid session opened on one of the org's threads was paid." },
    SESSION_STATE_CHANGED: { description: "A prepaid session on one of the org's threads changed state or balance." },
    KV_KEY_CHANGED: { description: "A key of a KV instance in one of the org's projects was set or deleted." },
    MEMBER_JOINED: { description: 'Someone joined the org (accepted an invite).' },
    MEMBER_LEFT: { description: 'Someone left or was removed from the org.' },
    ROOM_MEMBER_ADDED: { description: 'Someone joined or was added to a room of the org.' },
    ROOM_MEMBER_REMOVED: { description: 'Someone left a room of the org, or was removed or banned from it (`reason` says which).' },
    ROOM_MEMBER_UPDATED: { description: "A room member's role changed, or they were muted or unmuted." },
    ROOM_MEMBER_BANNED: { description: 'Someone was banned from a room of the org.' },
    ROOM_MEMBER_UNBANNED: { description: 'A ban from a room of the org was lifted.' },
    ROOM_UPDATED: { description: 'A room of the org was renamed, frozen or unfrozen, archived or unarchived.' },
    ROOM_DELETED: { description: 'A room of the org was deleted, with its messages.' },
    MESSAGE_REPORTED: { description: "A room message was reported to the org's admins." },
    REPORT_RESOLVED: { description: 'A report was resolved: dismissed, the message deleted, or its author banned.' },
    ORG_UPDATED: { description: 'The org was renamed, or its slug or retention changed.' },
    ORG_DELETED: { description: 'The org was deleted (the last event its webhooks receive).' },
    ORG_OWNERSHIP_TRANSFERRED: { description: 'The org has a new OWNER.' },
  } satisfies Record<WebhookEventType, unknown>,
});

export const WebhookRef = builder.prismaNode('Webhook', {
  id: { field: 'id' },
  // node(id) of a deleted one is null rather than an error.
  nullable: true,
  description: "An org's outbound webhook (visible to its ADMINs and OWNERs).",
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Where events are POSTed.' }),
    description: t.exposeString('description', { nullable: true, description: 'A note from its creator; null when none.' }),
    events: t.field({ type: [WebhookEvent], description: 'The kinds of event it receives.', resolve: (w) => w.events as WebhookEventType[] }),
    enabled: t.exposeBoolean('enabled', { description: 'A disabled webhook gets no new events; its pending deliveries wait.' }),
    secretLast4: t.exposeString('secretLast4', { description: 'The end of the signing secret, to tell secrets apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it was last changed (settings or secret).' }),
    org: t.relation('org', { description: 'The org whose events it receives.' }),
  }),
});

builder.prismaObjectField('Org', 'webhooks', (t) =>
  t.relatedConnection(
    'webhooks',
    { cursor: 'id', description: 'Outbound webhooks, newest first (ADMIN and OWNER only).', query: { orderBy: { createdAt: 'desc' } } },
    { name: 'WebhookConnection', description: 'A page of webhooks.' },
    { name: 'WebhookEdge', description: 'A webhook and its cursor.' },
  ),
);

/** createWebhook's and rotateWebhookSecret's payloads: one each, so each can grow on its own. */
const webhookSecretPayload = (name: string, description: string) =>
  builder.objectRef<{ webhook: Webhook; secret: string }>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, description: 'The webhook.', resolve: (p) => p.webhook }),
      secret: t.exposeString('secret', { description: 'The signing secret (`whsec_…` when generated), shown only this once.' }),
    }),
  });
const CreateWebhookPayload = webhookSecretPayload('CreateWebhookPayload', 'A new webhook and its signing secret.');
const RotateWebhookSecretPayload = webhookSecretPayload('RotateWebhookSecretPayload', 'The webhook and its new signing secret.');
const DeleteWebhookPayload = builder.simpleObject('DeleteWebhookPayload', {
  description: 'The webhook removed by `deleteWebhook`.',
  fields: (t) => ({ deletedId: t.id({ description: 'The ID of the Webhook that is gone (its deliveries went with it).' }) }),
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A new webhook.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org whose events it receives (you must be ADMIN or OWNER there).' }),
    url: t.string({ required: true, description: 'http or https; loopback and private addresses are refused unless webhooks.allow_private.' }),
    events: t.field({ type: [WebhookEvent], required: true, description: 'The kinds of event to send it (at least one).' }),
    secret: t.string({ description: 'Your own signing secret (16+ printable characters); generated when absent.' }),
    description: t.string({ description: 'A note, for people.' }),
    enabled: t.boolean({ description: 'Default true.' }),
  }),
});
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: "A webhook's new settings; fields left out stay as they are.",
  fields: (t) => ({
    webhookId: t.id({ required: true, description: 'The webhook to change.' }),
    url: t.string({ description: 'A new address (the same rules as on creation).' }),
    events: t.field({ type: [WebhookEvent], description: 'The kinds of event it receives from now on.' }),
    description: t.string({ description: 'null clears it.' }),
    enabled: t.boolean({ description: 'false disables the webhook, true enables it again.' }),
  }),
});
const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  description: 'The webhook whose signing secret to replace.',
  fields: (t) => ({
    webhookId: t.id({ required: true, description: 'The webhook.' }),
    secret: t.string({ description: 'Your own new secret (16+ printable characters); generated when absent.' }),
  }),
});
const DeleteWebhookInput = builder.inputType('DeleteWebhookInput', {
  description: 'The webhook to delete.',
  fields: (t) => ({ webhookId: t.id({ required: true, description: 'The webhook.' }) }),
});

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    description:
      "Adds a webhook to the org (ADMIN or OWNER). BAD_USER_INPUT for a refused address or secret; CONFLICT when the org has as many as it may (webhooks.max_per_org).",
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'The webhook to create.' }) },
    resolve: (_root, { input }, ctx) => webhooks.createWebhook(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  updateWebhook: t.prismaField({
    type: 'Webhook',
    description: "Changes a webhook's address, events, description or enabled state (ADMIN or OWNER).",
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: 'The webhook and its changes.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const hook = await webhooks.updateWebhook(ctx, idOf(input.webhookId, 'Webhook', 'webhookId'), { ...input, webhookId: undefined });
      return db.webhook.findUniqueOrThrow({ ...query, where: { id: hook.id } });
    },
  }),
  rotateWebhookSecret: t.field({
    type: RotateWebhookSecretPayload,
    description: 'Replaces the signing secret (ADMIN or OWNER): deliveries are signed with the new one from now on.',
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true, description: 'The webhook and, optionally, the new secret.' }) },
    resolve: (_root, { input }, ctx) => webhooks.rotateWebhookSecret(ctx, idOf(input.webhookId, 'Webhook', 'webhookId'), input),
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    description: 'Deletes a webhook and its deliveries, pending ones included (ADMIN or OWNER).',
    args: { input: t.arg({ type: DeleteWebhookInput, required: true, description: 'The webhook.' }) },
    resolve: async (_root, { input }) => {
      const id = idOf(input.webhookId, 'Webhook', 'webhookId');
      await webhooks.deleteWebhook(id);
      return { deletedId: encodeGlobalID('Webhook', id) };
    },
  }),
}));
