import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { leftovers } from './leftovers.ts';

export interface FakePayment {
  paymentHash: string;
  paymentRequest: string;
  amount: number;
  memo: string;
  expiry?: number;
  webhook?: string;
  paid: boolean;
}

export interface FakeLnbits {
  url: string;
  apiKey: string;
  payments: Map<string, FakePayment>;
  /** Every request the server received, as `METHOD path`. */
  calls: string[];
  /** Marks the invoice paid in the wallet (as a payer would). */
  pay(paymentHash: string): void;
  /** Calls the webhook the invoice was created with, as LNbits does after a payment; returns the HTTP status. */
  callWebhook(paymentHash: string, opts?: { url?: string }): Promise<number>;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** A small LNbits wallet API on loopback: create invoice, check payment, and the payment webhook. */
export async function startFakeLnbits(apiKey = 'fake-invoice-key'): Promise<FakeLnbits> {
  const payments = new Map<string, FakePayment>();
  const calls: string[] = [];
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    calls.push(`${req.method} ${path}`);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers['x-api-key'] !== apiKey) return send(401, { detail: 'Invalid key' });
    if (req.method === 'POST' && path === '/api/v1/payments') {
      const body = JSON.parse(await readBody(req)) as { out: boolean; amount: number; memo: string; expiry?: number; webhook?: string };
      if (body.out !== false || !Number.isInteger(body.amount) || body.amount <= 0) return send(400, { detail: 'bad request' });
      const preimage = randomBytes(32);
      const paymentHash = createHash('sha256').update(preimage).digest('hex');
      const paymentRequest = `lnbcrt${body.amount * 10}n1pfake${paymentHash.slice(0, 40)}`;
      payments.set(paymentHash, { paymentHash, paymentRequest, amount: body.amount, memo: body.memo, expiry: body.expiry, webhook: body.webhook, paid: false });
      return send(201, { payment_hash: paymentHash, payment_request: paymentRequest, checking_id: paymentHash });
    }
    const m = /^\/api\/v1\/payments\/([0-9a-f]+)$/.exec(path);
    if (req.method === 'GET' && m) {
      const p = payments.get(m[1]);
      return p ? send(200, { paid: p.paid, details: { amount: p.amount * 1000, memo: p.memo } }) : send(404, { detail: 'Payment does not exist.' });
    }
    send(404, { detail: 'Not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  leftovers.push(close);
  return {
    url,
    apiKey,
    payments,
    calls,
    pay(paymentHash) {
      const p = payments.get(paymentHash);
      if (!p) throw new Error(`fake LNbits: no invoice ${paymentHash}`);
      p.paid = true;
    },
    async callWebhook(paymentHash, opts = {}) {
      const p = payments.get(paymentHash);
      const target = opts.url ?? p?.webhook;
      if (!target) throw new Error('fake LNbits: invoice has no webhook');
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payment_hash: paymentHash, amount: (p?.amount ?? 0) * 1000, memo: p?.memo }),
      });
      await res.arrayBuffer();
      return res.status;
    },
    close,
  };
}
