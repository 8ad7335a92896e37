import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { postWebhook } from './webhooks.http.ts';
import { DELIVERY_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, openSecret, signatureHeader } from './webhooks.signing.ts';

type Due = Awaited<ReturnType<typeof findDue>>[number];

/** Delay before retry number `attempts` (1 = after the first failure): doubling, capped, with jitter (half fixed, half random). */
export function backoffMs(config: Config['webhooks'], attempts: number, random = Math.random): number {
  const full = Math.min(config.backoffMaxMs, config.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(full / 2 + (random() * full) / 2);
}

function findDue(limit: number, now: Date) {
  return db.webhookDelivery.findMany({
    where: { status: 'PENDING', nextAttemptAt: { lte: now }, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }], webhook: { enabled: true } },
    orderBy: { nextAttemptAt: 'asc' },
    take: limit,
    select: { id: true, eventId: true, eventType: true, body: true, attempts: true, createdAt: true, webhook: { select: { url: true, secretSealed: true } } },
  });
}

/**
 * Sends due deliveries, `concurrency` at a time. A delivery is taken with a conditional update
 * (claim token + lease), so of several instances on one database exactly one sends it; a lease left
 * by a crashed instance runs out and the delivery is taken again. Every outcome is written only
 * under the claim token, so a holder that lost its lease cannot overwrite the new holder's result.
 */
export function startDeliveryWorker(app: AppServices) {
  const config = app.config.webhooks;
  const leaseMs = config.timeoutMs * 2 + 5000;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let passing = false;
  let again = false;
  /** When the last pass over due deliveries ended (ms since epoch; 0 before the first). */
  let lastPassAt = 0;

  async function pass() {
    if (passing) return void (again = true);
    passing = true;
    try {
      do {
        again = false;
        const free = config.concurrency - inFlight.size;
        if (free <= 0 || stopping.signal.aborted) break;
        const now = new Date();
        for (const d of await findDue(free, now)) {
          const token = randomUUID();
          const claimed = await db.webhookDelivery.updateMany({
            where: { id: d.id, status: 'PENDING', nextAttemptAt: { lte: now }, OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
            data: { claimToken: token, leaseUntil: new Date(Date.now() + leaseMs) },
          });
          if (!claimed.count) continue;
          const job: Promise<void> = send(d, token).finally(() => {
            inFlight.delete(job);
            tick();
          });
          inFlight.add(job);
        }
      } while (again);
    } catch (err) {
      app.log.error({ err }, 'webhook worker pass failed');
    } finally {
      passing = false;
      lastPassAt = Date.now();
    }
  }

  async function send(d: Due, token: string) {
    const started = new Date();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const secret = openSecret(app.config.auth.secretKey, d.webhook.secretSealed);
      const headers = {
        [SIGNATURE_HEADER]: signatureHeader(secret, d.body),
        [EVENT_ID_HEADER]: d.eventId,
        [EVENT_TYPE_HEADER]: d.eventType,
        [DELIVERY_ID_HEADER]: encodeGlobalID('WebhookDelivery', d.id),
      };
      const res = await postWebhook(d.webhook.url, d.body, headers, { timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, signal: stopping.signal });
      status = res.status;
      if (status < 200 || status >= 300) error = `HTTP ${status}${res.snippet ? `: ${res.snippet}` : ''}`;
    } catch (err) {
      if (stopping.signal.aborted) {
        // Cut short by shutdown: not the receiver's fault, so no attempt is counted; another start sends it.
        await db.webhookDelivery.updateMany({ where: { id: d.id, claimToken: token }, data: { claimToken: null, leaseUntil: null } }).catch(() => {});
        return;
      }
      error = (err as Error).message || String(err);
    }
    const attempts = d.attempts + 1;
    const outcome =
      error === null
        ? { status: 'SUCCEEDED' as const, deliveredAt: new Date() }
        : retryOrFail(d.createdAt, attempts);
    await db.webhookDelivery
      .updateMany({
        where: { id: d.id, claimToken: token },
        data: { ...outcome, attempts, lastStatusCode: status, lastError: error?.slice(0, 500) ?? null, lastAttemptAt: started, claimToken: null, leaseUntil: null },
      })
      .catch((err) => app.log.error({ err, deliveryId: d.id }, 'could not record a webhook delivery'));
  }

  function retryOrFail(createdAt: Date, attempts: number) {
    const next = new Date(Date.now() + backoffMs(config, attempts));
    const deadline = createdAt.getTime() + config.retryWindow * 1000;
    return next.getTime() > deadline ? { status: 'FAILED' as const } : { status: 'PENDING' as const, nextAttemptAt: next };
  }

  const tick = () => void pass();
  const timer = setInterval(tick, config.pollIntervalMs);
  timer.unref();
  tick();
  return {
    /** Look for due deliveries now (new rows were just written). */
    nudge: tick,
    /** For /metrics: deliveries being sent now, and when the last pass ended. */
    state: () => ({ inFlight: inFlight.size, lastPassAt }),
    /** Stops polling, aborts attempts in flight (releasing their claims) and waits for them. */
    async stop() {
      clearInterval(timer);
      stopping.abort();
      while (passing || inFlight.size) await Promise.race([...inFlight, new Promise((r) => setTimeout(r, 10))]);
    },
  };
}
