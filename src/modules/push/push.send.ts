import webpush from 'web-push';
import { guardedRequest, type PostOptions, type PostResult } from '../webhooks/webhooks.http.ts';
import type { VapidKeys } from './push.vapid.ts';

/** One stored subscription, as web-push takes it. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface SendOptions extends PostOptions {
  vapid: VapidKeys;
  subject: string;
  ttlSec: number;
}

/**
 * Sends one push: web-push encrypts the payload (RFC 8291, aes128gcm) and signs the VAPID header (RFC 8292);
 * the request is sent as webhooks' are (guardedRequest), so it is guarded the same way: TLS always verified
 * (against the system's CAs, plus push.ca_file's), each connection checked against SSRF by the address it
 * reaches (at send time, so a name that now resolves to a private address is refused), no redirects, a
 * deadline from connect to the end of the answer, and only the start of the answer read.
 */
export async function sendPush(target: PushTarget, payload: string, opts: SendOptions): Promise<PostResult> {
  const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
    vapidDetails: { subject: opts.subject, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey },
    TTL: opts.ttlSec,
    contentEncoding: 'aes128gcm',
  });
  const url = new URL(details.endpoint);
  if (url.protocol !== 'https:') throw new Error('push endpoints must be https');
  return guardedRequest(url, details.method, details.headers as Record<string, string | number>, details.body ?? undefined, opts);
}
