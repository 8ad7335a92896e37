import type { Plugin } from 'graphql-yoga';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import { fromTrustedProxy } from './client-address.ts';

/**
 * Where an S3-compatible store serves presigned URLs (storage.s3): the web client PUTs uploads there and shows
 * images from there, so the policy must name it. Null with local storage (same origin).
 */
export function storageOrigin(config: Config): string | null {
  const s3 = config.storage.s3;
  if (!s3.bucket) return null;
  if (s3.endpoint) return new URL(s3.endpoint).origin;
  return s3.forcePathStyle ? `https://s3.${s3.region}.amazonaws.com` : `https://${s3.bucket}.s3.${s3.region}.amazonaws.com`;
}

/**
 * The Content-Security-Policy of every response. Scripts only from this origin (GraphiQL's page and
 * the web client have no inline scripts: GraphiQL's boot code is a file, its options a JSON block);
 * inline styles stay allowed because GraphiQL's editor (Monaco) injects its own; workers from this
 * origin or blob:; `connect-src 'self'` covers fetch and the same-origin WebSocket; no framing. With S3
 * storage its origin is added to img-src (attachments shown inline) and connect-src (uploads PUT there).
 */
export function contentSecurityPolicy(config: Config): string {
  const store = storageOrigin(config);
  const plus = store ? ` ${store}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob:${plus}`,
    "font-src 'self' data:",
    `connect-src 'self'${plus}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * True when a trusted proxy says the client reached it over HTTPS (the proxy terminated TLS). The header
 * counts only on a connection from a trusted proxy (with a list of proxies, a peer outside it is not one).
 */
export function viaHttps(config: Config, request: Request, req?: IncomingMessage): boolean {
  if (!config.server.trustProxy || !fromTrustedProxy(config, req)) return new URL(request.url).protocol === 'https:';
  const proto = request.headers.get('x-forwarded-proto')?.split(',')[0].trim().toLowerCase();
  return proto === 'https';
}

/**
 * Security headers on every HTTP response: GraphQL, routes, /app, GraphiQL, /health, /metrics and
 * errors alike. A header a handler set itself is kept. HSTS only on HTTPS requests (see viaHttps):
 * over plain HTTP the browser ignores it, and on a proxy's say-so only when trust_proxy is on.
 */
export function useSecurityHeaders(config: Config): Plugin {
  const hsts = config.server.hstsMaxAge ? `max-age=${config.server.hstsMaxAge}` : undefined;
  const fixed: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'no-referrer'],
    ['content-security-policy', contentSecurityPolicy(config)],
    ['cross-origin-opener-policy', 'same-origin'],
  ];
  return {
    onResponse({ request, response, serverContext }) {
      try {
        for (const [name, value] of fixed) if (!response.headers.has(name)) response.headers.set(name, value);
        const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
        if (hsts && viaHttps(config, request, req)) response.headers.set('strict-transport-security', hsts);
      } catch {
        // A response with immutable headers (Response.redirect, a fetched response passed through) goes out as it is.
      }
    },
  };
}
