import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { assertLiteralAllowed, guardedLookup } from './webhooks.address.ts';

/** How much of a failed response is kept as `lastError`, for whoever debugs the receiver. */
const ERROR_SNIPPET_BYTES = 300;

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** Aborts the attempt (the server is stopping). */
  signal: AbortSignal;
}

export interface PostResult {
  status: number;
  /** The start of the response body, for non-2xx answers. */
  snippet: string;
}

/**
 * POSTs one delivery. Redirects are not followed (a 3xx is a failure, as with Stripe) and every
 * connection is new, checked against SSRF by address, and bounded in time from connect to the end of
 * the response.
 */
export function postWebhook(target: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    assertLiteralAllowed(url, opts.allowPrivate);
    const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(opts.allowPrivate),
      signal,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Confab-Webhooks/1' },
    });
    const fail = (err: Error) => reject(signal.aborted && !opts.signal.aborted ? new Error(`timed out after ${opts.timeoutMs} ms`) : err);
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      let snippet = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (!ok && snippet.length < ERROR_SNIPPET_BYTES) snippet += chunk.slice(0, ERROR_SNIPPET_BYTES - snippet.length);
      });
      res.on('end', () => resolve({ status, snippet }));
      res.on('error', fail);
      res.on('close', () => !res.complete && fail(new Error('the response was cut short')));
    });
    req.end(body);
  });
}
