import { execFileSync } from 'node:child_process';
import { createDecipheriv, createECDH, createHmac, randomBytes, type ECDH } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request the fake push service received. */
export interface ReceivedPush {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A browser's side of a subscription: its keys, and what to pass to registerPushSubscription. */
export interface FakeBrowser {
  ecdh: ECDH;
  auth: Buffer;
  endpoint: string;
  path: string;
  input: { endpoint: string; p256dh: string; auth: string; userAgent: string };
}

export interface FakePushService {
  origin: string;
  /** The PEM file of its (self-signed) certificate: the server's push.ca_file. */
  caFile: string;
  received: ReceivedPush[];
  /** The first push to `path` (already received or yet to come). */
  pushTo(path: string, timeoutMs?: number): Promise<ReceivedPush>;
  /** The pushes to `path` so far. */
  pushesTo(path: string): ReceivedPush[];
  /**
   * A new browser subscribed at this service. Its path's first segment picks the answer: `gone` 410,
   * `missing` 404, `broken` 500; anything else 201.
   */
  browser(pathPrefix?: string): FakeBrowser;
  close(): Promise<void>;
}

/**
 * A push service on loopback, over HTTPS with a certificate made for this run by the `openssl` binary (web-push's
 * requests are always TLS, and Confab verifies it: the test passes the certificate as push.ca_file).
 */
export async function startFakePushService(): Promise<FakePushService> {
  const dir = mkdtempSync(join(tmpdir(), 'confab-push-'));
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', caFile,
  ], { stdio: 'ignore' });
  const received: ReceivedPush[] = [];
  const waiters: { path: string; resolve: (r: ReceivedPush) => void }[] = [];
  const server = createServer({ key: readFileSync(keyFile, 'utf8'), cert: readFileSync(caFile, 'utf8') }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedPush = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(r);
      const kind = r.path.split('/')[1];
      res.writeHead(kind === 'gone' ? 410 : kind === 'missing' ? 404 : kind === 'broken' ? 500 : 201).end();
      for (const w of waiters.splice(0)) (w.path === r.path ? w.resolve(r) : waiters.push(w));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browsers = 0;
  return {
    origin,
    caFile,
    received,
    pushTo(path, timeoutMs = 10_000) {
      const seen = received.find((r) => r.path === path);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no push to ${path} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ path, resolve: (r) => (clearTimeout(timer), resolve(r)) });
      });
    },
    pushesTo: (path) => received.filter((r) => r.path === path),
    browser(pathPrefix = 'push') {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/${pathPrefix}/${++browsers}-${randomBytes(4).toString('hex')}`;
      const endpoint = `${origin}${path}`;
      return { ecdh, auth, endpoint, path, input: { endpoint, p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url'), userAgent: `Test browser ${browsers}` } };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hmac = (key: Buffer, ...data: Buffer[]) => data.reduce((h, d) => h.update(d), createHmac('sha256', key)).digest();

/**
 * What a browser does with a push: aes128gcm (RFC 8188) with Web Push's key derivation (RFC 8291), then JSON.
 * Throws if the record is not the last one (delimiter 2) or does not authenticate.
 */
export function decryptPush(b: FakeBrowser, body: Buffer): unknown {
  const salt = body.subarray(0, 16);
  const idLength = body[20];
  const serverKey = body.subarray(21, 21 + idLength);
  const cipherText = body.subarray(21 + idLength);
  const secret = b.ecdh.computeSecret(serverKey);
  const ikm = hmac(hmac(b.auth, secret), Buffer.from('WebPush: info\0'), b.ecdh.getPublicKey(), serverKey, Buffer.from([1]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(cipherText.subarray(-16));
  const padded = Buffer.concat([decipher.update(cipherText.subarray(0, -16)), decipher.final()]);
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error(`not the last record (delimiter ${padded[end]})`);
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}
