import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

/**
 * The proxies whose X-Forwarded-For entries are believed (config `server.trusted_proxies`): how many
 * stand in front of Confab, or their addresses and CIDR ranges. 0 (or an empty list) trusts none.
 */
export type TrustedProxies = number | string[];

/** Named ranges accepted in a trusted-proxy list, as Express's `trust proxy` accepts them. */
const NAMED_RANGES: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
type Trust = (address: string, hop: number) => boolean;

/** Only plain dotted-quad IPv4 and IPv6: ipaddr.js would also read `10`, `0x0a.1` or `167772161` as addresses. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.0.0.7`, a /32 or /128). */
function parseRange(text: string): Range | undefined {
  const [address, bits, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const ip = parseAddress(address);
  if (!ip) return undefined;
  if (bits === undefined) return [ip, ip.kind() === 'ipv4' ? 32 : 128];
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (address.includes(':') ? 128 : 32)) return undefined;
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
  if (ip.kind() === 'ipv4' && address.includes(':')) return Number(bits) >= 96 ? [ip, Number(bits) - 96] : undefined;
  return [ip, Number(bits)];
}

/** Is this a valid entry of a trusted-proxy list (an address, a CIDR, or loopback/linklocal/uniquelocal)? */
export const isProxyRange = (text: string): boolean => text in NAMED_RANGES || parseRange(text) !== undefined;

function compile(trusted: TrustedProxies): Trust | undefined {
  if (typeof trusted === 'number') return trusted > 0 ? (_address, hop) => hop < trusted : undefined;
  const ranges = trusted.flatMap((entry) => NAMED_RANGES[entry] ?? [entry]).map((entry) => parseRange(entry)!);
  if (!ranges.length) return undefined;
  return (address) => {
    const ip = parseAddress(address);
    return !!ip && ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
  };
}

const compiled = new WeakMap<object, Trust | undefined>();
const trustOf = (server: { trustedProxies: TrustedProxies }) => {
  if (!compiled.has(server)) compiled.set(server, compile(server.trustedProxies));
  return compiled.get(server);
};

/**
 * Did this connection come from a trusted proxy (so that what it says in X-Forwarded-* may be believed)?
 * With a hop count, any peer is the first proxy; with a list, the peer must be in it.
 */
export function fromTrustedProxy(config: { server: { trustedProxies: TrustedProxies } }, req?: IncomingMessage): boolean {
  const peer = req?.socket?.remoteAddress;
  const trust = trustOf(config.server);
  return !!peer && !!trust && trust(peer, 0);
}

/**
 * The client's address, as Express's `trust proxy` finds it: start from the socket's peer and walk
 * X-Forwarded-For from the right, past every hop a trusted proxy added; the first untrusted address is
 * the client. With a hop count N that is the Nth entry from the right; with a list, the socket's peer
 * must itself be a trusted proxy before the header is read at all. The leftmost entries, which the
 * client writes itself, are never taken on their own say-so.
 */
export function clientAddress(config: { server: { trustedProxies: TrustedProxies } }, request?: Request, req?: IncomingMessage): string {
  const peer = req?.socket?.remoteAddress;
  if (!peer) return 'unknown';
  const trust = trustOf(config.server);
  if (!trust) return peer;
  const header = request?.headers.get('x-forwarded-for') ?? req?.headers['x-forwarded-for'];
  const hops = [peer, ...(typeof header === 'string' && header ? header.split(',').map((a) => a.trim()).reverse() : [])];
  for (let i = 0; i < hops.length - 1; i++) if (!trust(hops[i], i)) return hops[i];
  return hops[hops.length - 1];
}
