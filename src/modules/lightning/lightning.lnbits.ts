import type { Config } from '../../config.ts';
import type { LightningBackend } from './lightning.types.ts';

/** The webhook path LNbits calls when an invoice is paid (see lightning.routes.ts). */
export const WEBHOOK_PATH = '/lightning/webhook';

export class LightningError extends Error {}

/**
 * An LNbits wallet over its HTTP API: `POST /api/v1/payments` (out: false) creates an invoice,
 * `GET /api/v1/payments/<hash>` tells whether it was paid. The invoice/read key is enough.
 */
export function lnbitsBackend(cfg: Config['lightning']): LightningBackend {
  const base = cfg.lnbitsUrl!.replace(/(?<!\/)\/+$/, '');
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', 'x-api-key': cfg.lnbitsApiKey!, ...init.headers },
      signal: AbortSignal.timeout(cfg.requestTimeout),
    });
    const text = await res.text();
    if (!res.ok) throw new LightningError(`LNbits ${init.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new LightningError(`LNbits ${path} answered with something that is not JSON`);
    }
  };
  const webhook = cfg.publicUrl
    ? `${cfg.publicUrl.replace(/(?<!\/)\/+$/, '')}${WEBHOOK_PATH}${cfg.webhookSecret ? `?secret=${encodeURIComponent(cfg.webhookSecret)}` : ''}`
    : undefined;
  return {
    name: 'lnbits',
    async createInvoice({ amountSats, memo, expirySec }) {
      const body = { out: false, amount: amountSats, memo, expiry: expirySec, ...(webhook ? { webhook } : {}) };
      const res = await call('/api/v1/payments', { method: 'POST', body: JSON.stringify(body) });
      const paymentHash = res.payment_hash;
      const paymentRequest = res.payment_request ?? res.bolt11;
      if (typeof paymentHash !== 'string' || typeof paymentRequest !== 'string') {
        throw new LightningError('LNbits did not return payment_hash and payment_request');
      }
      return { paymentHash, paymentRequest };
    },
    async isPaid(paymentHash) {
      const res = await call(`/api/v1/payments/${encodeURIComponent(paymentHash)}`);
      return res.paid === true;
    },
  };
}
