import { createECDH, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import webpush from 'web-push';
import type { Config } from '../../config.ts';

/** The VAPID key pair push requests are signed with (URL-safe base64, as `web-push generate-vapid-keys` prints). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** The file generated keys are kept in, under the data directory. */
export const vapidFile = (config: Config) => join(config.dataDir, 'vapid.json');

/**
 * Checks a key pair: a 65-byte uncompressed P-256 public key, a 32-byte private key, and the public key is
 * the private key's (a swapped or mistyped pair fails at start rather than at every push).
 */
export function checkVapidKeys(keys: Partial<VapidKeys>, where: string): VapidKeys {
  const { publicKey, privateKey } = keys;
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') throw new Error(`${where}: publicKey and privateKey must both be set`);
  const pub = Buffer.from(publicKey, 'base64url');
  const priv = Buffer.from(privateKey, 'base64url');
  if (pub.length !== 65 || pub[0] !== 4) throw new Error(`${where}: the VAPID public key must be a 65-byte uncompressed P-256 key (URL-safe base64)`);
  if (priv.length !== 32) throw new Error(`${where}: the VAPID private key must be 32 bytes (URL-safe base64)`);
  let derived: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    derived = ecdh.getPublicKey();
  } catch {
    throw new Error(`${where}: the VAPID private key is not a valid P-256 key`);
  }
  if (!derived.equals(pub)) throw new Error(`${where}: the VAPID public key does not belong to the private key`);
  return { publicKey, privateKey };
}

async function readKeyFile(path: string): Promise<VapidKeys> {
  const text = await readFile(path, 'utf8');
  let parsed: Partial<VapidKeys>;
  try {
    parsed = JSON.parse(text) as Partial<VapidKeys>;
  } catch {
    throw new Error(`${path}: not valid JSON (delete it to generate a new VAPID key pair; browsers then subscribe again)`);
  }
  return checkVapidKeys(parsed, path);
}

/**
 * The VAPID keys: from the config when set there; else from `<dataDir>/vapid.json`, generated on first start.
 *
 * The file is created whole or not at all: the keys are written to a temporary file (mode 0600), which is
 * then hard-linked to the final name. `link` fails if the name exists, so when two processes start at once on
 * one data directory, one of them creates the file and the other reads it: both end with the same keys. A
 * reader never sees a half-written file. (On a file system without hard links, an exclusive `wx` create.)
 */
export async function loadVapidKeys(config: Config): Promise<VapidKeys> {
  const { vapidPublicKey, vapidPrivateKey } = config.push;
  if (vapidPublicKey && vapidPrivateKey) return checkVapidKeys({ publicKey: vapidPublicKey, privateKey: vapidPrivateKey }, 'push.vapid_*_key');
  const path = vapidFile(config);
  try {
    return await readKeyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(config.dataDir, { recursive: true });
  const keys = webpush.generateVAPIDKeys();
  const body = `${JSON.stringify({ ...keys, createdAt: new Date().toISOString() }, null, 2)}\n`;
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, body, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return keys;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return readKeyFile(path);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  try {
    await writeFile(path, body, { mode: 0o600, flag: 'wx' });
    return keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(path);
    throw err;
  }
}
