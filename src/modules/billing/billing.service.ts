import { timingSafeEqual } from 'node:crypto';
import { signatureHeader } from '../webhooks/webhooks.signing.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { AppServices, Context } from '../../context.ts';
import { db, type Tx } from '../../db/client.ts';
import { appError, isUniqueViolation } from '../../errors.ts';
import type { PlanName } from '../usage/usage.service.ts';

export const PLANS = ['FREE', 'PRO', 'TEAM', 'ENTERPRISE'] as const satisfies readonly PlanName[];

/**
 * setOrgPlan: in `manual` billing mode an org's OWNER picks its plan. In `webhook` mode the plan is
 * the billing provider's to set, so this is refused. Quotas read the plan on every request, so the
 * new one applies to the very next message.
 */
export async function setOrgPlan(ctx: Context, orgId: string, plan: PlanName) {
  if (ctx.app.config.billing.mode !== 'manual') throw billingManaged();
  const org = await db.org.update({ where: { id: orgId }, data: { plan } });
  ctx.log.info({ orgId, plan }, 'org plan set by owner');
  return org;
}

const billingManaged = () => appError('FORBIDDEN', 'Plans are managed by the billing provider on this server', { reason: 'BILLING_MANAGED' });

/** A raw org id, from a global ID (`Org:…`) or a raw one, as billing providers store whichever they were given. */
export function rawOrgId(value: string): string {
  try {
    const decoded = decodeGlobalID(value);
    if (decoded.typename === 'Org' && decoded.id) return decoded.id;
  } catch {
    // not a global ID
  }
  return value;
}

/** The same Stripe-layout signature outbound webhooks send, so one scheme (and providers' helpers) fits both. */
export function signBillingPayload(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return signatureHeader(secret, body, timestamp * 1000);
}

export type SignatureVerdict = 'ok' | 'malformed' | 'stale' | 'mismatch';

/**
 * Checks a webhook signature: the timestamp within the tolerance (a captured request cannot be
 * replayed later), then any `v1` entry equal to the expected HMAC, compared in constant time.
 */
export function verifyBillingSignature(app: AppServices, header: string | null, body: string, now = Date.now()): SignatureVerdict {
  const secret = app.config.billing.webhookSecret;
  if (!header || !secret) return 'malformed';
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const given = parts.filter(([k, v]) => k === 'v1' && v).map(([, v]) => v);
  if (!Number.isInteger(t) || !given.length) return 'malformed';
  if (Math.abs(now / 1000 - t) > app.config.billing.webhookToleranceSec) return 'stale';
  const expected = Buffer.from(signBillingPayload(secret, body, t).split('v1=')[1], 'hex');
  const match = given.some((hex) => {
    const candidate = Buffer.from(hex, 'hex');
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
  return match ? 'ok' : 'mismatch';
}

/**
 * Applies a provider's plan change once: the event id is recorded in the same transaction as the
 * plan, so a replay (or a retry after a lost response) changes nothing.
 */
export async function applyBillingEvent(app: AppServices, event: { id: string; orgId: string; plan: PlanName }) {
  const org = await db.org.findUnique({ where: { id: event.orgId }, select: { id: true } });
  if (!org) return { status: 'unknown-org' as const };
  try {
    await db.$transaction(async (tx: Tx) => {
      await tx.billingEvent.create({ data: { id: event.id, orgId: event.orgId, plan: event.plan } });
      await tx.org.update({ where: { id: event.orgId }, data: { plan: event.plan } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) return { status: 'duplicate' as const };
    throw err;
  }
  app.log.info({ orgId: event.orgId, plan: event.plan, eventId: event.id }, 'org plan set by billing webhook');
  return { status: 'applied' as const };
}
