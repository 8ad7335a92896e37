import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { paymentSweep } from '../src/modules/lightning/lightning.worker.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { startFakeLnbits, type FakeLnbits } from './helpers/fake-lnbits.ts';
import { openSession } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const MutationFields = graphql(`query LnbitsMutationFields { __type(name: "Mutation") { fields { name } } }`);
const InvoiceUpdated = graphql(`subscription LnbitsInvoiceUpdated($id: ID!) { invoiceUpdated(invoiceId: $id) { id state } }`);

const SECRET = 'webhook-secret-for-tests';
let lnbits: FakeLnbits;
let server: TestServer;

beforeAll(async () => {
  lnbits = await startFakeLnbits();
  server = await startServer({
    overrides: {
      lightning: {
        backend: 'lnbits',
        lnbitsUrl: lnbits.url,
        lnbitsApiKey: lnbits.apiKey,
        webhookSecret: SECRET,
        publicUrl: 'http://127.0.0.1:1',
        // The test drives polling itself (paymentSweep), so the worker's own timer stays out of the way.
        pollInterval: 3_600_000,
      },
    },
  });
});
afterAll(async () => {
  await server.stop();
  await lnbits.close();
});

const webhookUrl = (secret: string | null) => `${server.origin}/lightning/webhook${secret === null ? '' : `?secret=${encodeURIComponent(secret)}`}`;
const sessionOf = async (paymentHash: string) =>
  db.session.findUniqueOrThrow({ where: { id: (await db.invoice.findUniqueOrThrow({ where: { paymentHash } })).sessionId } });

describe('lnbits backend', () => {
  it('creates the invoice in the wallet with amount, memo, expiry and the secret webhook', async () => {
    const s = await openSession(server, 2100);
    const p = lnbits.payments.get(s.invoice.paymentHash);
    expect(p).toMatchObject({ amount: 2100, expiry: 3600, paid: false });
    expect(p?.memo).toContain('deposit');
    expect(p?.webhook).toBe(`http://127.0.0.1:1/lightning/webhook?secret=${SECRET}`);
    expect(s.invoice.paymentRequest).toBe(p?.paymentRequest);
  });

  it('has no settleDevInvoice mutation', async () => {
    const { __type } = await server.ok(MutationFields);
    const names = __type?.fields?.map((f) => f.name) ?? [];
    expect(names).toContain('openPaidSession');
    expect(names).not.toContain('settleDevInvoice');
    const res = await server.gql(`mutation { settleDevInvoice(input: { paymentHash: "x" }) { id } }`);
    expect(res.errors?.[0].message).toMatch(/settleDevInvoice/);
    // Its input type goes with it.
    const input = await server.gql(`{ __type(name: "SettleDevInvoiceInput") { name } }`);
    expect(input.data).toEqual({ __type: null });
  });

  it('settles a paid invoice found by polling, and leaves unpaid ones pending', async () => {
    const paid = await openSession(server, 300);
    const unpaid = await openSession(server, 300);
    const client = server.ws({ token: paid.token });
    const live = subscribe(client, InvoiceUpdated, { id: paid.invoice.id });
    expect((await live.next()).data?.invoiceUpdated.state).toBe('PENDING');
    lnbits.pay(paid.invoice.paymentHash);
    await paymentSweep(server.app.services);
    expect((await live.next()).data?.invoiceUpdated.state).toBe('PAID');
    expect(await sessionOf(paid.invoice.paymentHash)).toMatchObject({ state: 'ACTIVE', balanceSats: 300 });
    expect(await sessionOf(unpaid.invoice.paymentHash)).toMatchObject({ state: 'AWAITING_PAYMENT', balanceSats: 0 });
    expect(lnbits.calls).toContain(`GET /api/v1/payments/${unpaid.invoice.paymentHash}`);
  });

  it('settles on the webhook with the right secret, and refuses a wrong or missing one', async () => {
    const s = await openSession(server, 500);
    lnbits.pay(s.invoice.paymentHash);
    expect(await lnbits.callWebhook(s.invoice.paymentHash, { url: webhookUrl('wrong') })).toBe(403);
    expect(await lnbits.callWebhook(s.invoice.paymentHash, { url: webhookUrl(null) })).toBe(403);
    expect(await sessionOf(s.invoice.paymentHash)).toMatchObject({ state: 'AWAITING_PAYMENT', balanceSats: 0 });
    expect(await lnbits.callWebhook(s.invoice.paymentHash, { url: webhookUrl(SECRET) })).toBe(200);
    expect(await sessionOf(s.invoice.paymentHash)).toMatchObject({ state: 'ACTIVE', balanceSats: 500 });
  });

  it('accepts the secret in the X-Webhook-Secret header too', async () => {
    const s = await openSession(server, 250);
    lnbits.pay(s.invoice.paymentHash);
    const post = (secret: string) =>
      fetch(webhookUrl(null), { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-secret': secret }, body: JSON.stringify({ payment_hash: s.invoice.paymentHash }) });
    expect((await post('nope')).status).toBe(403);
    expect((await post(SECRET)).status).toBe(200);
    expect(await sessionOf(s.invoice.paymentHash)).toMatchObject({ state: 'ACTIVE', balanceSats: 250 });
  });

  it('does not trust the webhook body: an unpaid invoice stays pending', async () => {
    const s = await openSession(server, 500);
    expect(await lnbits.callWebhook(s.invoice.paymentHash, { url: webhookUrl(SECRET) })).toBe(409);
    expect((await db.invoice.findUniqueOrThrow({ where: { paymentHash: s.invoice.paymentHash } })).state).toBe('PENDING');
    const bogus = await fetch(webhookUrl(SECRET), { method: 'POST', body: 'not json' });
    expect(bogus.status).toBe(400);
  });

  it('credits once when polls and webhooks race on the same payment', async () => {
    const s = await openSession(server, 777);
    const client = server.ws({ token: s.token });
    const live = subscribe(client, InvoiceUpdated, { id: s.invoice.id });
    await live.next();
    lnbits.pay(s.invoice.paymentHash);
    await Promise.all([
      paymentSweep(server.app.services),
      paymentSweep(server.app.services),
      ...Array.from({ length: 4 }, () => lnbits.callWebhook(s.invoice.paymentHash, { url: webhookUrl(SECRET) })),
    ]);
    expect(await sessionOf(s.invoice.paymentHash)).toMatchObject({ state: 'ACTIVE', balanceSats: 777 });
    expect((await live.next()).data?.invoiceUpdated.state).toBe('PAID');
    expect(await live.ended).toBeUndefined();
    expect(live.received).toHaveLength(2);
  });
});
