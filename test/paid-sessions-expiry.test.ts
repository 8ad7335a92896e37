import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { registerUser } from './helpers/fixtures.ts';
import { openSession, paidSession, settle, SettleDevInvoiceDoc, topUp, TopUpSessionDoc } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Node = graphql(`query ExpirySessionNode($id: ID!) { node(id: $id) { ... on Session { id state } } }`);
const Lifecycle = graphql(`
  subscription ExpiryLifecycle($id: ID!) {
    sessionEvents(sessionId: $id) { __typename ... on SessionStateChanged { state balanceSats } ... on CostDebited { chargedSats balanceAfterSats } }
  }
`);
const Send = graphql(`
  mutation ExpirySend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { chargedSats balanceAfterSats } } }
`);
const Events = graphql(`
  subscription ExpirySessionEvents($id: ID!) { sessionEvents(sessionId: $id) { ... on SessionStateChanged { state balanceSats } } }
`);

let server: TestServer;
beforeAll(async () => {
  // Sessions live 2 s after their last activity and invoices 2 s; the worker sweeps every 100 ms; 1 sat per token.
  server = await startServer({
    overrides: {
      paidSessions: { ttl: 2, minimumBalance: 50, requestHoldSats: 50 },
      lightning: { invoiceTtl: 2, pollInterval: 100 },
      pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
    },
  });
});

describe('expiry', () => {
  it('expires an unpaid deposit and its session; paying afterwards is refused', async () => {
    const s = await openSession(server, 200);
    const events = subscribe(server.ws({ token: s.token }), Events, { id: s.session.id });
    expect((await events.next()).data?.sessionEvents).toMatchObject({ state: 'AWAITING_PAYMENT' });
    expect((await events.next(5000)).data?.sessionEvents).toMatchObject({ state: 'EXPIRED' });
    expect(await events.ended).toBeUndefined();
    expect(await server.errorCode(SettleDevInvoiceDoc, { input: { paymentHash: s.invoice.paymentHash } })).toBe('GONE');
  });

  it('ends a paid session at its expiry: the token is refused with GONE over HTTP and WS, the owner still sees it', async () => {
    const owner = await registerUser(server);
    const s = await paidSession(server, 300, { token: owner.token });
    const events = subscribe(server.ws({ token: s.token }), Events, { id: s.session.id });
    expect((await events.next()).data?.sessionEvents).toMatchObject({ state: 'ACTIVE', balanceSats: 300 });
    expect((await events.next(5000)).data?.sessionEvents).toMatchObject({ state: 'EXPIRED', balanceSats: 300 });
    expect(await server.errorCode(Node, { id: s.session.id }, { token: s.token })).toBe('GONE');
    const refused = subscribe(server.ws({ token: s.token }), Events, { id: s.session.id });
    const closed = (await refused.ended) as { code?: number };
    expect(closed.code).toBe(4403);
    expect((await server.ok(Node, { id: s.session.id }, { token: owner.token })).node).toMatchObject({ state: 'EXPIRED' });
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 200 } }, { token: owner.token })).toBe('GONE');
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'too late' } }, { token: owner.token })).toBe('GONE');
  });

  it('walks a subscriber through AWAITING_PAYMENT → ACTIVE → PAUSED → ACTIVE (top-up) → EXPIRED', async () => {
    const s = await openSession(server, 100);
    const live = subscribe(server.ws({ token: s.token }), Lifecycle, { id: s.session.id });
    await live.next();
    await settle(server, s.invoice.paymentHash);
    // 60 words cost 124 sats: the 100-sat balance goes to zero and the session pauses.
    const long = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    expect((await server.ok(Send, { input: { sessionId: s.session.id, content: long } }, { token: s.token })).sendSessionMessage.request).toMatchObject({ chargedSats: 100, balanceAfterSats: 0 });
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'more' } }, { token: s.token })).toBe('PAYMENT_REQUIRED');
    const t = await topUp(server, s.token, s.session.id, 150);
    await settle(server, t.invoice.paymentHash);
    await live.ended;
    const states = live.received.map((e) => e.data?.sessionEvents).filter((e) => e?.__typename === 'SessionStateChanged');
    expect(states.map((e) => (e as { state: string }).state)).toEqual(['AWAITING_PAYMENT', 'ACTIVE', 'PAUSED', 'ACTIVE', 'EXPIRED']);
    expect(states.map((e) => (e as { balanceSats: number }).balanceSats)).toEqual([0, 100, 0, 150, 150]);
    expect(live.received.map((e) => e.data?.sessionEvents).find((e) => e?.__typename === 'CostDebited')).toMatchObject({ chargedSats: 100, balanceAfterSats: 0 });
  });
});
