import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, isAdminOfParentOrg, orgRule, passes, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';

const ADMIN = { role: 'ADMIN' } as const;

const canManageWebhook = ruleOf('canManageWebhook', async (ctx, args) => {
  const hook = await db.webhook.findUnique({ where: { id: idOf(args.input.webhookId, 'Webhook', 'webhookId') }, select: { orgId: true } });
  return hook ? checkOrg(ctx, hook.orgId, ADMIN) : notFound('Webhook');
});

const canRedeliver = ruleOf('canRedeliverWebhookDelivery', async (ctx, args) => {
  const d = await db.webhookDelivery.findUnique({ where: { id: idOf(args.input.deliveryId, 'WebhookDelivery', 'deliveryId') }, select: { orgId: true } });
  return d ? checkOrg(ctx, d.orgId, ADMIN) : notFound('Webhook delivery');
});

/**
 * Webhooks are the org's ADMINs' and OWNERs' alone: they choose where the org's events go. API keys
 * never manage them (FORBIDDEN in their own org, NOT_FOUND elsewhere); non-members see nothing.
 */
export const webhooksPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      createWebhook: orgRule('canCreateWebhook', (a) => a.input.orgId, ADMIN),
      updateWebhook: canManageWebhook,
      rotateWebhookSecret: canManageWebhook,
      deleteWebhook: canManageWebhook,
      redeliverWebhookDelivery: canRedeliver,
    },
    Org: { webhooks: isAdminOfParentOrg },
    Webhook: { '*': allow },
    WebhookDelivery: { '*': allow },
    CreateWebhookPayload: { '*': allow },
    RotateWebhookSecretPayload: { '*': allow },
    DeleteWebhookPayload: { '*': allow },
  },
  nodes: {
    Webhook: (ctx, w: { orgId: string }) => passes(checkOrg(ctx, w.orgId, ADMIN)),
    WebhookDelivery: (ctx, d: { orgId: string }) => passes(checkOrg(ctx, d.orgId, ADMIN)),
  },
};
