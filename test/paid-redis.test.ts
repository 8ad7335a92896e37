import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createTestDatabase } from './helpers/db.ts';
import { openSession, SettleDevInvoiceDoc } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const InvoiceLive = graphql(`subscription PaidRedisInvoice($id: ID!) { invoiceUpdated(invoiceId: $id) { state } }`);
const SessionLive = graphql(`
  subscription PaidRedisSession($id: ID!) {
    sessionEvents(sessionId: $id) { __typename ... on SessionStateChanged { state balanceSats } ... on CostDebited { chargedSats balanceAfterSats } }
  }
`);
const Send = graphql(`
  mutation PaidRedisSend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { chargedSats } } }
`);

// Two instances on one database and one Redis, as behind a load balancer.
describe.skipIf(!process.env.TEST_REDIS_URL)('prepaid sessions across two instances', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const database = await createTestDatabase();
    const overrides = { redis: { url: process.env.TEST_REDIS_URL } };
    a = await startServer({ database, overrides });
    b = await startServer({ database, overrides });
    return () => database.drop();
  });

  it('settles once when both instances settle at the same moment, and a subscriber on either hears it', async () => {
    const s = await openSession(a, 800);
    const invoice = subscribe(a.ws({ token: s.token }), InvoiceLive, { id: s.invoice.id });
    const session = subscribe(b.ws({ token: s.token }), SessionLive, { id: s.session.id });
    expect((await invoice.next()).data?.invoiceUpdated.state).toBe('PENDING');
    expect((await session.next()).data?.sessionEvents).toMatchObject({ state: 'AWAITING_PAYMENT' });
    const input = { input: { paymentHash: s.invoice.paymentHash } };
    const results = await Promise.all([a, b, a, b].map((server) => server.gql(SettleDevInvoiceDoc, input)));
    expect(results.every((r) => !r.errors)).toBe(true);
    expect((await invoice.next()).data?.invoiceUpdated.state).toBe('PAID');
    expect((await session.next()).data?.sessionEvents).toMatchObject({ state: 'ACTIVE', balanceSats: 800 });
    await session.expectSilence(300);
    const row = await db.session.findFirstOrThrow({ where: { invoices: { some: { paymentHash: s.invoice.paymentHash } } } });
    expect(row.balanceSats).toBe(800);

    await a.ok(Send, { input: { sessionId: s.session.id, content: 'hello world' } }, { token: s.token });
    // Published by instance a, heard through Redis on instance b: the chat events, then the debit.
    const seen: string[] = [];
    let debit: unknown;
    while (!seen.includes('CostDebited') || !seen.includes('AssistantDone')) {
      const e = (await session.next()).data!.sessionEvents;
      seen.push(e.__typename);
      if (e.__typename === 'CostDebited') debit = e;
    }
    expect(seen).toContain('AssistantDelta');
    // Default prices: 7 + 3 tokens of echo cost a fraction of a sat, rounded up to one.
    expect(debit).toMatchObject({ chargedSats: 1, balanceAfterSats: 799 });
    session.close();
  });
});
