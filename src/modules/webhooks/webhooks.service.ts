import { z } from 'zod';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { conflict, notFound, parseInput } from '../../errors.ts';
import { validateWebhookUrl } from './webhooks.address.ts';
import { WEBHOOK_EVENTS } from './webhooks.events.ts';
import { nudgeDeliveries } from './webhooks.running.ts';
import { newWebhookSecret, sealSecret } from './webhooks.signing.ts';

const events = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1, 'must hold at least one event')
  .transform((list) => [...new Set(list)]);
const secret = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');
const description = z.string().trim().max(200, 'must be at most 200 characters');

const createInput = z.object({
  url: z.string(),
  events,
  secret: secret.nullish(),
  description: description.nullish(),
  enabled: z.boolean().nullish(),
});
const updateInput = z.object({
  url: z.string().nullish(),
  events: events.nullish(),
  description: description.nullish(),
  enabled: z.boolean().nullish(),
});

const sealed = (ctx: Context, plain: string) => ({ secretSealed: sealSecret(ctx.app.config.auth.secretKey, plain), secretLast4: plain.slice(-4) });

/** The signing secret is returned here once (generated unless given); only its last 4 characters are readable later. */
export async function createWebhook(ctx: Context, orgId: string, input: unknown) {
  const data = parseInput(createInput, input);
  const { allowPrivate, maxPerOrg } = ctx.app.config.webhooks;
  const url = await validateWebhookUrl(data.url, allowPrivate);
  if ((await db.webhook.count({ where: { orgId } })) >= maxPerOrg) throw conflict(`An org may have at most ${maxPerOrg} webhooks`);
  const plain = data.secret ?? newWebhookSecret();
  const webhook = await db.webhook.create({
    data: { orgId, url, events: data.events, description: data.description ?? null, enabled: data.enabled ?? true, ...sealed(ctx, plain) },
  });
  return { webhook, secret: plain };
}

/** Fields left out (or null) stay as they are, except `description`, which null clears. */
export async function updateWebhook(ctx: Context, id: string, input: unknown) {
  const data = parseInput(updateInput, input);
  const url = data.url == null ? undefined : await validateWebhookUrl(data.url, ctx.app.config.webhooks.allowPrivate);
  await mustExist(id);
  return db.webhook.update({
    where: { id },
    data: {
      url,
      events: data.events ?? undefined,
      enabled: data.enabled ?? undefined,
      description: data.description === undefined ? undefined : data.description,
    },
  });
}

/** A new secret (the one given, or a generated one), shown once; deliveries signed from now on use it. */
export async function rotateWebhookSecret(ctx: Context, id: string, input: { secret?: string | null }) {
  const plain = parseInput(z.object({ secret: secret.nullish() }), input).secret ?? newWebhookSecret();
  await mustExist(id);
  const webhook = await db.webhook.update({ where: { id }, data: sealed(ctx, plain) });
  return { webhook, secret: plain };
}

/** Its deliveries go with it, pending ones included. */
export async function deleteWebhook(id: string) {
  await mustExist(id);
  await db.webhook.delete({ where: { id } });
  return { deletedId: id };
}

/**
 * Sends an event again as a new delivery (same event id and body, so receivers that dedupe by id
 * still can), with a fresh retry window. The original keeps its history.
 */
export async function redeliver(ctx: Context, deliveryId: string) {
  const d = await db.webhookDelivery.findUnique({ where: { id: deliveryId } });
  if (!d) throw notFound('Webhook delivery');
  const copy = await db.webhookDelivery.create({
    data: { webhookId: d.webhookId, orgId: d.orgId, eventId: d.eventId, eventType: d.eventType, body: d.body },
  });
  nudgeDeliveries(ctx.app);
  return copy;
}

async function mustExist(id: string) {
  if (!(await db.webhook.findUnique({ where: { id }, select: { id: true } }))) throw notFound('Webhook');
}
