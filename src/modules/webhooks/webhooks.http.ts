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
  /** CA certificates trusted besides the system's (https only); undefined: the system's only. */
  ca?: string[];
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
  return guardedRequest(
    new URL(target),
    'POST',
    { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Confab-Webhooks/1' },
    body,
    opts,
  );
}

/**
 * One outbound request to an address someone else chose (a webhook, a browser's push service): a new
 * connection checked against SSRF by the address it reaches (guardedLookup, at connect time), no redirects,
 * one deadline from connect to the end of the response, and only the start of a failed response's body read.
 */
export function guardedRequest(
  url: URL,
  method: string,
  headers: Record<string, string | number>,
  body: string | Buffer | undefined,
  opts: PostOptions,
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    assertLiteralAllowed(url, opts.allowPrivate);
    const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method,
      agent: false,
      lookup: guardedLookup(opts.allowPrivate),
      ...(opts.ca ? { ca: opts.ca } : {}),
      signal,
      headers,
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
