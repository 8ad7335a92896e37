import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The data key for provider keys, derived from the server secret with HKDF (a label of its own, so
 * it never equals a key used for tokens). Changing the secret makes stored provider keys unreadable.
 */
export function dataKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'confab', 'provider-keys/aes-256-gcm/v1', 32));
}

/** AES-256-GCM; the result is base64 of iv | tag | ciphertext. A fresh random iv per call. */
export function encryptSecret(secret: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey(secret), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Throws when the data was tampered with or was sealed under another secret. */
export function decryptSecret(secret: string, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', dataKey(secret), raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
