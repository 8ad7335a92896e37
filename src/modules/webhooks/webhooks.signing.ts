import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from '../providerkeys/providerkeys.crypto.ts';

/** Header names a receiver reads. The signature header uses Stripe's format, so Stripe's verifiers work as they are. */
export const SIGNATURE_HEADER = 'Confab-Signature';
export const EVENT_ID_HEADER = 'Confab-Event-Id';
export const EVENT_TYPE_HEADER = 'Confab-Event-Type';
export const DELIVERY_ID_HEADER = 'Confab-Delivery-Id';

/** A new signing secret: `whsec_` and 32 random bytes (Stripe's shape, so it is recognised as a secret). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the secret as written. Signed
 * at each attempt, so a receiver that refuses old timestamps (replays) still accepts a late retry.
 */
export function signatureHeader(secret: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Secrets are sealed with AES-256-GCM under a key of their own derived from `auth.secret_key`
 * (signing needs the plaintext, so a hash will not do). The label keeps it apart from provider keys.
 */
const sealKey = (serverSecret: string) =>
  Buffer.from(hkdfSync('sha256', serverSecret, 'confab', 'webhook-secrets/aes-256-gcm/v1', 32)).toString('base64');

export const sealSecret = (serverSecret: string, secret: string) => encryptSecret(sealKey(serverSecret), secret);
export const openSecret = (serverSecret: string, sealed: string) => decryptSecret(sealKey(serverSecret), sealed);
