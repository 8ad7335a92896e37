import type { Config } from '../../config.ts';
import { devBackend } from './lightning.dev.ts';
import { lnbitsBackend } from './lightning.lnbits.ts';

export interface InvoiceRequest {
  /** Confab's id for the invoice (the dev backend derives its payment hash from it). */
  id: string;
  amountSats: number;
  memo: string;
  expirySec: number;
}

export interface IssuedInvoice {
  paymentHash: string;
  paymentRequest: string;
}

/**
 * Where invoices come from and how their payment is confirmed. Confab only receives payments, so
 * a backend needs no spending rights.
 */
export interface LightningBackend {
  readonly name: 'dev' | 'lnbits';
  createInvoice(req: InvoiceRequest): Promise<IssuedInvoice>;
  /** Asks the backend whether the invoice has been paid; the only proof Confab trusts. */
  isPaid(paymentHash: string): Promise<boolean>;
}

const backends = new WeakMap<Config, LightningBackend>();

/** The configured backend, one per configuration (so two test servers can use different ones). */
export function lightningFor(config: Config): LightningBackend {
  let backend = backends.get(config);
  if (!backend) {
    backend = config.lightning.backend === 'lnbits' ? lnbitsBackend(config.lightning) : devBackend();
    backends.set(config, backend);
  }
  return backend;
}

/**
 * Whether invoices may be "paid" with settleDevInvoice: only with the dev backend, and never in
 * production (a production server left on the default backend must not hand out free balances).
 */
export const devSettleAllowed = (config: Config) => config.lightning.backend === 'dev' && config.env !== 'production';
