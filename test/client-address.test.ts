import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../src/config.ts';
import { clientAddress } from '../src/http/client-address.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { leftovers } from './helpers/leftovers.ts';
import { OpenPaidSessionDoc } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * The client address behind proxies (issue 17, item 5). The test connects from 127.0.0.1, standing in for
 * the proxy next to Confab, and writes X-Forwarded-For as a chain of appending proxies would pass it on: a
 * random prefix the client made up, then what each proxy added. Whatever the prefix, one client keeps
 * one budget under the per-address login limit, the anonymous request limit and paid_sessions.open_per_minute,
 * over HTTP and on the WebSocket upgrade alike; another real client has its own.
 */
const Typename = graphql(`query ProxyTypename { __typename }`);
const Login = graphql(`mutation ProxyLogin($input: LoginInput!) { login(input: $input) { accessToken } }`);

const spoof = () => `${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}, 2001:db8::${randomBytes(2).toString('hex')}`;
let next = 1;
/** A client address of its own for each scenario (TEST-NET-3), so that scenarios sharing a server never share a budget. */
const newClient = () => `203.0.113.${next++}`;

interface Setup {
  name: string;
  server: Record<string, unknown>;
  /** X-Forwarded-For as it reaches Confab for `client`, with a fresh made-up prefix. */
  header: (client: string) => string;
}
const setups: Setup[] = [
  // Existing configs: trust_proxy alone is the one hop of the shipped nginx (appending or not).
  { name: 'trust_proxy = true (one hop)', server: { trustProxy: true }, header: (c) => `${spoof()}, ${c}` },
  { name: 'trusted_proxies = 1', server: { trustedProxies: 1 }, header: (c) => `${spoof()}, ${c}` },
  // A CDN or load balancer at 10.0.0.5 in front of the proxy at 127.0.0.1.
  { name: 'trusted_proxies = 2', server: { trustedProxies: 2 }, header: (c) => `${spoof()}, ${c}, 10.0.0.5` },
  { name: 'trusted_proxies = CIDR list', server: { trustedProxies: ['loopback', '10.0.0.0/8'] }, header: (c) => `${spoof()}, ${c}, 10.0.0.5` },
];

/** A graphql-ws client whose upgrade request carries these headers. */
function wsWithHeaders(server: TestServer, headers: Record<string, string>) {
  class WithHeaders extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const client = createClient({ url: server.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true });
  leftovers.push(() => client.dispose() as Promise<void>);
  return client;
}

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => (res.errors?.[0]?.extensions?.code as string | undefined) ?? 'OK';
const xff = (value: string) => ({ headers: { 'x-forwarded-for': value } });

let base: TestServer;
beforeAll(async () => {
  base = await startServer();
});
afterAll(() => base.stop());

describe.each(setups)('client address with $name', (setup) => {
  let rated: TestServer;
  let limits: TestServer;
  beforeAll(async () => {
    // One after the other: two starts on one SQLite file at once would both attach its search index.
    rated = await startServer({ database: base.database, overrides: { server: setup.server, rateLimit: { perClient: 3, perOrg: 0, windowSec: 3600 } } });
    limits = await startServer({ database: base.database, overrides: { server: setup.server, auth: { loginMaxAttempts: 2 }, paidSessions: { openPerMinute: 2 } } });
    return async () => {
      await rated.stop();
      await limits.stop();
    };
  });

  it('a made-up X-Forwarded-For prefix does not escape the anonymous request limit, over HTTP or the WebSocket upgrade', async () => {
    const client = newClient();
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push(codeOf(await rated.gql(Typename, {}, xff(setup.header(client)))));
    expect(codes).toEqual(['OK', 'OK', 'OK', 'RATE_LIMITED']);
    // The socket is addressed from its upgrade request in the same way: the same client, spent.
    const spent = await subscribe(wsWithHeaders(rated, { 'x-forwarded-for': setup.header(client) }), Typename).next();
    expect(codeOf(spent)).toBe('RATE_LIMITED');
    // Another real client has a budget of its own, over HTTP and over a socket.
    const other = newClient();
    expect(codeOf(await rated.gql(Typename, {}, xff(setup.header(other))))).toBe('OK');
    const fresh = await subscribe(wsWithHeaders(rated, { 'x-forwarded-for': setup.header(newClient()) }), Typename).next();
    expect(fresh).toEqual({ data: { __typename: 'Query' } });
  });

  it('a made-up prefix does not escape the per-address login limit', async () => {
    const client = newClient();
    const attempt = (from: string, i: number) =>
      limits.gql(Login, { input: { email: `nobody-${from}-${i}@example.com`, password: 'not the password' } }, xff(setup.header(from)));
    // loginMaxAttempts 2 per email, 10 per address: ten different emails, then the address is spent.
    const codes = [];
    for (let i = 0; i < 11; i++) codes.push(codeOf(await attempt(client, i)));
    expect(codes).toEqual([...Array(10).fill('UNAUTHENTICATED'), 'RATE_LIMITED']);
    expect(codeOf(await attempt(newClient(), 0))).toBe('UNAUTHENTICATED');
  });

  it('a made-up prefix does not escape paid_sessions.open_per_minute', async () => {
    const client = newClient();
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(codeOf(await limits.gql(OpenPaidSessionDoc, { input: { amountSats: 100 } }, xff(setup.header(client)))));
    expect(codes).toEqual(['OK', 'OK', 'RATE_LIMITED']);
    expect(codeOf(await limits.gql(OpenPaidSessionDoc, { input: { amountSats: 100 } }, xff(setup.header(newClient()))))).toBe('OK');
  });
});

describe('a CIDR list that does not hold the socket peer', () => {
  it('reads no X-Forwarded-For at all: every request counts against the peer', async () => {
    const s = await startServer({
      database: base.database,
      overrides: { server: { trustedProxies: ['10.0.0.0/8'] }, rateLimit: { perClient: 2, perOrg: 0, windowSec: 3600 } },
    });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(codeOf(await s.gql(Typename, {}, xff(`${newClient()}, 10.0.0.5`))));
    expect(codes).toEqual(['OK', 'OK', 'RATE_LIMITED']);
    await s.stop();
  });
});

describe('the walk from the right (Express trust proxy semantics)', () => {
  const address = (trustedProxies: number | string[], peer: string, header?: string) =>
    clientAddress({ server: { trustedProxies } }, undefined, { socket: { remoteAddress: peer }, headers: header === undefined ? {} : { 'x-forwarded-for': header } } as unknown as IncomingMessage);

  it('with a hop count takes the entry that many hops from the socket, and the socket with none', () => {
    const chain = 'made.up, 198.51.100.7, 10.0.0.5';
    expect(address(0, '127.0.0.1', chain)).toBe('127.0.0.1');
    expect(address(1, '127.0.0.1', chain)).toBe('10.0.0.5');
    expect(address(2, '127.0.0.1', chain)).toBe('198.51.100.7');
    // More hops than entries: the furthest entry there is (the proxies wrote them all).
    expect(address(2, '127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(address(1, '127.0.0.1')).toBe('127.0.0.1');
    expect(address(1, '127.0.0.1', '')).toBe('127.0.0.1');
  });

  it('with a list skips trusted addresses from the right, reads the header only from a trusted peer, and knows IPv6 and mapped IPv4', () => {
    expect(address(['loopback'], '127.0.0.1', 'made.up, 198.51.100.7, 10.0.0.5')).toBe('10.0.0.5');
    expect(address(['loopback', '10.0.0.0/8'], '127.0.0.1', 'made.up, 198.51.100.7, 10.0.0.5')).toBe('198.51.100.7');
    expect(address(['10.0.0.0/8'], '127.0.0.1', 'made.up, 198.51.100.7, 10.0.0.5')).toBe('127.0.0.1');
    expect(address(['127.0.0.1'], '::ffff:127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(address(['::ffff:10.0.0.0/104'], '10.1.2.3', '198.51.100.7')).toBe('198.51.100.7');
    expect(address(['2001:db8::/32'], '2001:db8::1', '2001:db8::2, 2001:db9::7, 2001:db8::9')).toBe('2001:db9::7');
    // An entry that is no plain address is never a trusted proxy (ipaddr.js alone would read 10 as 0.0.0.10).
    expect(address(['0.0.0.0/8', 'loopback'], '127.0.0.1', '198.51.100.7, 10')).toBe('10');
  });
});

describe('server.trusted_proxies configuration', () => {
  const load = (env: Record<string, string>, server: Record<string, unknown> = {}) => loadConfig({ env, file: false, overrides: { server } }).server;

  it('maps trust_proxy to one hop, takes a hop count or a list from the environment, and reports bad entries', () => {
    expect(load({})).toMatchObject({ trustProxy: false, trustedProxies: 0 });
    expect(load({ CONFAB_TRUST_PROXY: 'true' })).toMatchObject({ trustProxy: true, trustedProxies: 1 });
    expect(load({ CONFAB_TRUSTED_PROXIES: '2' })).toMatchObject({ trustProxy: true, trustedProxies: 2 });
    expect(load({ CONFAB_TRUSTED_PROXIES: 'loopback, 10.0.0.0/8, 2001:db8::/32' }).trustedProxies).toEqual(['loopback', '10.0.0.0/8', '2001:db8::/32']);
    // trusted_proxies wins over trust_proxy.
    expect(load({ CONFAB_TRUST_PROXY: 'true', CONFAB_TRUSTED_PROXIES: '0' })).toMatchObject({ trustProxy: false, trustedProxies: 0 });
    expect(() => load({ CONFAB_TRUSTED_PROXIES: '10.0.0.0/33, proxy.internal' })).toThrow(
      /server\.trustedProxies\.0: "10\.0\.0\.0\/33" is not an IP address[\s\S]*server\.trustedProxies\.1: "proxy\.internal" is not/,
    );
    expect(() => load({}, { trustedProxies: 1.5 })).toThrow(/server\.trustedProxies \(env CONFAB_TRUSTED_PROXIES\): must be a hop count/);
  });
});
