import ipaddr from 'ipaddr.js';
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { badInput } from '../../errors.ts';

const MAX_URL_LENGTH = 2048;

/**
 * Only global unicast addresses are public: loopback, private (RFC 1918), carrier-grade NAT,
 * link-local (cloud metadata at 169.254.169.254), unique-local, multicast, unspecified, reserved and
 * the IPv6 ranges that embed an IPv4 address (mapped, NAT64, 6to4, Teredo) are not.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let addr = ipaddr.parse(address);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() === 'unicast';
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
