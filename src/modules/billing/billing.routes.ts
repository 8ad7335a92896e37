import { z } from 'zod';
import type { Route } from '../../app-module.ts';
import { applyBillingEvent, PLANS, rawOrgId, verifyBillingSignature } from './billing.service.ts';

export const BILLING_WEBHOOK_PATH = '/billing/webhook';
/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const BILLING_SIGNATURE_HEADER = 'confab-signature';

const json = (status: number, body: unknown) => Response.json(body, { status });

const eventBody = z.object({
  id: z.string().trim().min(1).max(200),
  type: z.literal('org.plan_changed'),
  orgId: z.string().trim().min(1).max(200),
  plan: z.enum(PLANS),
});

/**
 * The billing provider's webhook (billing mode `webhook`): a signed `org.plan_changed` event sets
 * the org's plan. Unsigned, mis-signed or stale calls change nothing; a replayed event id is
 * acknowledged without being applied again.
 */
export const billingRoutes: Route[] = [
  {
    method: 'POST',
    path: BILLING_WEBHOOK_PATH,
    async handler(request, app) {
      if (app.config.billing.mode !== 'webhook') return json(404, { error: 'Billing webhooks are off (billing.mode is manual)' });
      const raw = await request.text();
      const verdict = verifyBillingSignature(app, request.headers.get(BILLING_SIGNATURE_HEADER), raw);
      if (verdict !== 'ok') {
        app.log.warn({ verdict }, 'billing webhook refused');
        return json(verdict === 'malformed' ? 400 : 401, { error: `Signature ${verdict}` });
      }
      let parsed: z.infer<typeof eventBody>;
      try {
        const result = eventBody.safeParse(JSON.parse(raw));
        if (!result.success) return json(400, { error: result.error.issues[0].message, field: result.error.issues[0].path.join('.') });
        parsed = result.data;
      } catch {
        return json(400, { error: 'Expected a JSON body' });
      }
      const outcome = await applyBillingEvent(app, { id: parsed.id, orgId: rawOrgId(parsed.orgId), plan: parsed.plan });
      if (outcome.status === 'unknown-org') return json(404, { error: 'Unknown org' });
      return json(200, { applied: outcome.status === 'applied', duplicate: outcome.status === 'duplicate' });
    },
  },
];
