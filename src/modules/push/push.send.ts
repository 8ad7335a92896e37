import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import webpush from 'web-push';
import { assertLiteralAllowed, guardedLookup } from '../webhooks/webhooks.address.ts';
import type { VapidKeys } from './push.vapid.ts';

/** How much of a push service's answer is read (its error text, for the log). */
const ANSWER_BYTES = 300;

/** One stored subscription, as web-push takes it. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface SendOptions {
  vapid: VapidKeys;
  subject: string;
  ttlSec: number;
  timeoutMs: number;
  allowPrivate: boolean;
  /** CA certificates trusted besides the system's (push.ca_file); undefined: the system's only. */
  ca?: string[];
  /** Aborts the request (the server is stopping). */
  signal: AbortSignal;
}

/** What the push service answered. */
export interface SendResult {
  status: number;
  /** The start of the answer's body, for non-2xx answers. */
  snippet: string;
}

/**
 * Sends one push: web-push encrypts the payload (RFC 8291, aes128gcm) and signs the VAPID header (RFC 8292);
 * the request is ours, as webhooks' are, so that it is guarded the same way: TLS always verified (against the
 * system's CAs, plus push.ca_file's), each connection checked against SSRF by the address it reaches (at send
 * time, so a name that now resolves to a private address is refused), no redirects, a deadline from connect to
 * the end of the answer, and only the start of the answer read.
 */
export function sendPush(target: PushTarget, payload: string, opts: SendOptions): Promise<SendResult> {
  const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
    vapidDetails: { subject: opts.subject, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey },
    TTL: opts.ttlSec,
    contentEncoding: 'aes128gcm',
  });
  return new Promise((resolve, reject) => {
    const url = new URL(details.endpoint);
    if (url.protocol !== 'https:') throw new Error('push endpoints must be https');
    assertLiteralAllowed(url, opts.allowPrivate);
    const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
    const req = request(url, {
      method: details.method,
      agent: false,
      lookup: guardedLookup(opts.allowPrivate),
      ...(opts.ca ? { ca: opts.ca } : {}),
      signal,
      headers: details.headers as Record<string, string | number>,
    });
    const fail = (err: Error) => reject(signal.aborted && !opts.signal.aborted ? new Error(`timed out after ${opts.timeoutMs} ms`) : err);
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let snippet = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (snippet.length < ANSWER_BYTES) snippet += chunk.slice(0, ANSWER_BYTES - snippet.length);
      });
      res.on('end', () => resolve({ status, snippet: status >= 200 && status < 300 ? '' : snippet }));
      res.on('error', fail);
      res.on('close', () => !res.complete && fail(new Error('the answer was cut short')));
    });
    req.end(details.body ?? undefined);
  });
}
