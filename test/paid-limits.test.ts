import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { OpenPaidSessionDoc, paidSession } from './helpers/paid.ts';
import { registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Send = graphql(`
  mutation PriceSend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { costSats btcUsd breakdown { btcUsd } } } }
`);

let rate: number | null = 50_000;
let calls = 0;
const source = createServer((_req, res) => {
  calls++;
  if (rate === null) {
    res.writeHead(503).end('down');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { btc_usd: rate } }));
});
let server: TestServer;

beforeAll(async () => {
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(source.address() as AddressInfo).port}/price`;
  server = await startServer({
    overrides: {
      paidSessions: { openPerMinute: 3 },
      pricing: { btcUsd: 100_000, priceSourceUrl: url, priceSourceField: 'data.btc_usd', priceCacheTtl: 1, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
    },
  });
});
afterAll(async () => {
  await server.stop();
  source.closeAllConnections();
  await new Promise<void>((resolve) => source.close(() => resolve()));
});

describe('BTC/USD price source', () => {
  it('prices with the fetched rate, caches it, and falls back to the configured rate when the source fails', async () => {
    const s = await paidSession(server, 5000);
    const send = async (content: string) =>
      (await server.ok(Send, { input: { sessionId: s.session.id, content } }, { token: s.token })).sendSessionMessage.request!;
    // 10 tokens = $0.01; at $50,000 per BTC that is 20 sats (10 at the configured $100,000).
    const first = await send('hello world');
    expect(first).toMatchObject({ costSats: 20, btcUsd: 50_000, breakdown: { btcUsd: 50_000 } });
    await send('again');
    expect(calls).toBe(1);
    rate = null;
    await new Promise((r) => setTimeout(r, 1100));
    const later = await send('and once more');
    expect(later.btcUsd).toBe(50_000); // the last good rate is kept when the source fails
    expect(calls).toBe(2);
  });
});

describe('opening sessions', () => {
  it('limits how many sessions one client opens per minute', async () => {
    // The price test opened one already; anonymous clients share this test's address.
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await server.gql(OpenPaidSessionDoc, { input: { amountSats: 100 } }));
    expect(results.map((r) => r.errors?.[0].extensions?.code ?? 'OK')).toEqual(['OK', 'OK', 'RATE_LIMITED']);
    expect(results[2].errors?.[0].extensions?.retryAfter).toBeGreaterThan(0);
    // A signed-in user is counted on their own.
    const user = await registerUser(server);
    expect((await server.gql(OpenPaidSessionDoc, { input: { amountSats: 100 } }, { token: user.token })).errors).toBeUndefined();
  });
});
