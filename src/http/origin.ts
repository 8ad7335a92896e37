import type { IncomingMessage } from 'node:http';
import type { Config } from '../config.ts';
import { fromTrustedProxy } from './client-address.ts';

/** Host header values taken as they are: a name or address with an optional port, nothing else. */
const HOST = /^[\w.-]+(?::\d{1,5})?$|^\[[\d:a-f.]+\](?::\d{1,5})?$/i;

/**
 * The origin the client reached this server at (`https://chat.example.com`), for absolute URLs Confab hands
 * out (attachment uploads and downloads): the Host header and the scheme of the connection; behind a trusted
 * proxy, its X-Forwarded-Proto and X-Forwarded-Host. Undefined when there is no usable host.
 */
export function requestOrigin(config: Config, request?: Request, req?: IncomingMessage): string | undefined {
  const header = (name: string) => request?.headers.get(name) ?? (req?.headers[name] as string | undefined) ?? undefined;
  const proxied = config.server.trustProxy && fromTrustedProxy(config, req);
  const first = (v?: string) => v?.split(',')[0].trim();
  let proto = request ? new URL(request.url).protocol.replace(':', '') : (req?.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
  let host = header('host');
  if (proxied) {
    const fproto = first(header('x-forwarded-proto'))?.toLowerCase();
    if (fproto === 'http' || fproto === 'https') proto = fproto;
    host = first(header('x-forwarded-host')) || host;
  }
  if (proto === 'ws') proto = 'http';
  if (proto === 'wss') proto = 'https';
  return host && HOST.test(host) ? `${proto}://${host}` : undefined;
}
