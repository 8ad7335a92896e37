import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { registerUser } from './helpers/fixtures.ts';
import { openSession, paidSession, SettleDevInvoiceDoc, TopUpSessionDoc } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Node = graphql(`query ExpirySessionNode($id: ID!) { node(id: $id) { ... on Session { id state } } }`);
const Events = graphql(`
  subscription ExpirySessionEvents($id: ID!) { sessionEvents(id: $id) { ... on SessionStateChanged { state balanceSats } } }
`);

let server: TestServer;
beforeAll(async () => {
  // Sessions live 1 s after payment and invoices 1 s; the worker sweeps every 100 ms.
  server = await startServer({ overrides: { paidSessions: { ttl: 1 }, lightning: { invoiceTtl: 1, pollInterval: 100 } } });
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
  });
});
