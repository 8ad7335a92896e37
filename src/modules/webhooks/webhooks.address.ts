import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { badInput } from '../../errors.ts';

const MAX_URL_LENGTH = 2048;

/**
 * An address from its text, or undefined. IPv6 goes through the WHATWG URL parser first, which writes it
 * in hex groups: ipaddr.js reads `::a.b.c.d` (IPv4-compatible, the way resolvers print `::7f00:1`) as
 * `::ffff:a.b.c.d` (IPv4-mapped).
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const family = isIP(address);
  if (family === 4) return ipaddr.IPv4.parse(address);
  if (family !== 6) return undefined;
  try {
    return ipaddr.IPv6.parse(new URL(`http://[${address}]/`).hostname.slice(1, -1));
  } catch {
    return undefined;
  }
}

const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96') as [ipaddr.IPv6, number];

/**
 * The IPv4 addresses an IPv6 address leads to, for the ranges that embed one: IPv4-mapped, NAT64
 * (64:ff9b::/96), 6to4 (the relay's address) and Teredo (its server, and its client stored inverted).
 * An empty list for the embedding ranges refused whatever they hold (the local-use NAT64 prefix, whose
 * layout depends on its length, and IPv4-translated addresses); undefined for the others.
 */
function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const bytes = addr.toByteArray();
  const at = (i: number, invert = false) => new ipaddr.IPv4(bytes.slice(i, i + 4).map((b) => (invert ? b ^ 0xff : b)));
  switch (addr.range()) {
    case 'ipv4Mapped':
      return [at(12)];
    case 'rfc6052':
      return addr.match(NAT64) ? [at(12)] : [];
    case '6to4':
      return [at(2)];
    case 'teredo':
      return [at(4), at(12, true)];
    case 'rfc6145':
      return [];
    default:
      return undefined;
  }
}

/**
 * Only global unicast addresses are public: loopback, private (RFC 1918), carrier-grade NAT,
 * link-local (cloud metadata at 169.254.169.254), unique-local, multicast, unspecified and reserved
 * ones are not. The deprecated IPv4-compatible range (::/96, e.g. `::7f00:1` = ::127.0.0.1) is refused
 * whole; the other IPv6 ranges that embed an IPv4 address (mapped, NAT64, 6to4, Teredo) are judged by
 * the address they embed, so `::ffff:127.0.0.1` and `64:ff9b::10.0.0.1` are refused while DNS64's
 * `64:ff9b::<public IPv4>` still reaches a public host.
 */
export function isPublicAddress(address: string): boolean {
  const addr = parseAddress(address);
  if (!addr) return false;
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  if (v6.match(IPV4_COMPATIBLE)) return false;
  const embedded = embeddedIPv4(v6);
  if (embedded) return embedded.length > 0 && embedded.every((a) => a.range() === 'unicast');
  return v6.range() === 'unicast';
}

/** `[::1]` → `::1`: WHATWG URLs keep the brackets of IPv6 hosts. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** Every address a name resolves to (as the connection would, through the system resolver). */
const resolveAll = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, list) => (err ? reject(err) : resolve(list))));

/**
 * A webhook URL as stored: http or https, no credentials, and unless `allowPrivate`, a host that is
 * (or resolves only to) public addresses. A name that resolves to any non-public address is refused,
 * so one public record cannot smuggle in a private one; the check is repeated at each send.
 */
export async function validateWebhookUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw badInput('url: is not a valid URL', 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('url: must be http or https', 'url');
  if (url.username || url.password) throw badInput('url: must not contain credentials', 'url');
  if (url.href.length > MAX_URL_LENGTH) throw badInput(`url: is longer than ${MAX_URL_LENGTH} characters`, 'url');
  if (allowPrivate) return url.href;
  const host = bareHost(url);
  const addresses = isIP(host) ? [host] : await resolveAll(host).then((l) => l.map((a) => a.address), () => null);
  if (!addresses?.length) throw badInput(`url: ${host} could not be resolved`, 'url');
  if (!addresses.every(isPublicAddress)) {
    throw badInput('url: points to a loopback, private or link-local address (set webhooks.allow_private to allow it)', 'url');
  }
  return url.href;
}

/** Thrown at send time when the host now resolves to a refused address (DNS rebinding). */
export class RefusedAddressError extends Error {
  code = 'EREFUSEDADDRESS';
}

/**
 * A `lookup` for http.request that resolves the name itself and refuses non-public answers. The
 * socket connects to the address this returns, so what was checked is what is reached.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (err, list) => {
      if (err) return callback(err, '', 0);
      const refused = allowPrivate ? undefined : list.find((a) => !isPublicAddress(a.address));
      if (refused) return callback(new RefusedAddressError(`${hostname} resolves to a non-public address (${refused.address})`), '', 0);
      if ((options as LookupAllOptions).all) return (callback as unknown as (e: null, l: LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** The literal IP of a URL, checked before connecting (Node skips `lookup` for literal addresses). */
export function assertLiteralAllowed(url: URL, allowPrivate: boolean) {
  const host = bareHost(url);
  if (!allowPrivate && isIP(host) && !isPublicAddress(host)) throw new RefusedAddressError(`${host} is not a public address`);
}
