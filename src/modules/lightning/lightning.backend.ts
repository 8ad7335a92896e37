import type { Config } from '../../config.ts';
import { devBackend } from './lightning.dev.ts';
import { lnbitsBackend } from './lightning.lnbits.ts';
import type { LightningBackend } from './lightning.types.ts';

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
