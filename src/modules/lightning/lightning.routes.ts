import { timingSafeEqual } from 'node:crypto';
import { db } from '../../db/client.ts';
import type { Route } from '../../app-module.ts';
import { settleInvoice } from '../invoices/invoices.service.ts';
import { lightningFor } from './lightning.backend.ts';
import { WEBHOOK_PATH } from './lightning.lnbits.ts';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const sameSecret = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * LNbits calls this when an invoice is paid. The secret (query `secret` or header `X-Webhook-Secret`)
 * proves the call comes from our wallet's setup; even then the body is only a hint: the payment is
 * confirmed with LNbits before the invoice is settled.
 */
export const lightningRoutes: Route[] = [
  {
    method: 'POST',
    path: WEBHOOK_PATH,
    async handler(request, app) {
      const { webhookSecret } = app.config.lightning;
      const backend = lightningFor(app.config);
      if (backend.name === 'dev' || !webhookSecret) return json(404, { error: 'No payment webhook is configured' });
      const given = new URL(request.url).searchParams.get('secret') ?? request.headers.get('x-webhook-secret') ?? '';
      if (!sameSecret(given, webhookSecret)) return json(403, { error: 'Bad webhook secret' });
      let paymentHash: unknown;
      try {
        paymentHash = ((await request.json()) as { payment_hash?: unknown }).payment_hash;
      } catch {
        return json(400, { error: 'Expected a JSON body with payment_hash' });
      }
      if (typeof paymentHash !== 'string' || !paymentHash) return json(400, { error: 'Expected a JSON body with payment_hash' });
      const invoice = await db.invoice.findUnique({ where: { paymentHash } });
      if (!invoice || invoice.backend !== backend.name) return json(404, { error: 'Unknown invoice' });
      if (invoice.state !== 'PENDING') return json(200, { settled: false, state: invoice.state });
      if (!(await backend.isPaid(paymentHash))) return json(409, { settled: false, error: 'The wallet does not report this invoice as paid' });
      const outcome = await settleInvoice(app, { id: invoice.id });
      return json(200, { settled: Boolean(outcome?.settled), state: 'PAID' });
    },
  },
];
