import { createHash } from 'node:crypto';
import type { LightningBackend } from './lightning.types.ts';

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** Hex → bech32 alphabet, so the fake request looks like (and is as long as) a real one. */
function bech32ish(hex: string): string {
  let out = '';
  for (let i = 0; i < hex.length; i += 2) out += BECH32[parseInt(hex.slice(i, i + 2), 16) % 32];
  return out;
}

/**
 * Offline invoices for development and tests. The payment hash is derived from the invoice id and the
 * request from the hash and amount, so the same invoice always looks the same. Nothing pays them:
 * the `settleDevInvoice` mutation stands in for a payer, and `isPaid` never says yes on its own.
 */
export function devBackend(): LightningBackend {
  return {
    name: 'dev',
    async createInvoice({ id, amountSats }) {
      const paymentHash = createHash('sha256').update(`confab-dev-invoice:${id}`).digest('hex');
      const tail = bech32ish(createHash('sha256').update(`${paymentHash}:${amountSats}`).digest('hex') + paymentHash);
      // BOLT 11 amounts: n = nano-bitcoin, 1 sat = 10 n. `lnbcrt` is the regtest prefix: not payable on mainnet.
      return { paymentHash, paymentRequest: `lnbcrt${amountSats * 10}n1pdev${tail}` };
    },
    async isPaid() {
      return false;
    },
  };
}
