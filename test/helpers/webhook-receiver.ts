import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { leftovers } from './leftovers.ts';

export interface WebhookBody {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, any>;
}

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: WebhookBody;
  /** ms since the epoch when it arrived. */
  at: number;
  /** What the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedHook[];
  /** The status to answer each request with (default 200); `'hang'` never answers. */
  respond: (hook: Omit<ReceivedHook, 'status'>) => number | 'hang';
  /** Resolves once `count` requests matching `filter` have arrived (waits up to `timeoutMs`). */
  waitFor(count: number, filter?: (h: ReceivedHook) => boolean, timeoutMs?: number): Promise<ReceivedHook[]>;
  close(): Promise<void>;
}

// An independent verifier: Stripe's own SDK checks `t=…,v1=…` exactly as its receivers do.
const stripe = new Stripe('sk_test_unused');

/** Verifies a delivery's Confab-Signature with Stripe's verifier (throws when it does not match or is too old). */
export function verifySignature(hook: ReceivedHook, secret: string): WebhookBody {
  return stripe.webhooks.constructEvent(hook.raw, String(hook.headers['confab-signature']), secret, 300) as unknown as WebhookBody;
}

/** A webhook receiver on loopback that records every request and answers as the test says. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const waiters = new Set<() => void>();
  const receiver = { received, respond: () => 200 } as unknown as WebhookReceiver;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const hook = { path: req.url ?? '/', headers: req.headers, raw, body: JSON.parse(raw) as WebhookBody, at: Date.now() };
    const status = receiver.respond(hook);
    if (status === 'hang') return;
    received.push({ ...hook, status });
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status >= 300 ? `receiver says ${status}` : 'ok');
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  leftovers.push(close);
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    port,
    close,
    waitFor(count: number, filter: (h: ReceivedHook) => boolean = () => true, timeoutMs = 15_000) {
      return new Promise<ReceivedHook[]>((resolve, reject) => {
        const check = () => {
          const hits = received.filter(filter);
          if (hits.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hits);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs} ms for ${count} webhook requests, got ${received.filter(filter).length}: ${received.map((h) => h.body.type).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  });
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
