import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomBytes } from 'node:crypto';
import type { AppServices } from '../../context.ts';
import { postWebhook } from './webhooks.http.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, openSecret, signatureHeader } from './webhooks.signing.ts';
import type { WebhookEventType } from './webhooks.events.ts';
import { backoffMs } from './webhooks.worker.ts';

/** A webhook as it was read before its row went away (with its org). */
export interface WebhookSnapshot {
  id: string;
  orgId: string;
  url: string;
  secretSealed: string;
  events: unknown;
}

interface Detached {
  stopping: AbortController;
  tasks: Set<Promise<void>>;
}
const detached = new WeakMap<AppServices, Detached>();

function stateOf(app: AppServices): Detached {
  let s = detached.get(app);
  if (!s) detached.set(app, (s = { stopping: new AbortController(), tasks: new Set() }));
  return s;
}

/**
 * Sends one event to webhooks whose rows are being deleted (ORG_DELETED: an org's webhooks and deliveries go with
 * it), from memory instead of through WebhookDelivery rows: signed and retried like a stored delivery (the same
 * backoff, within `webhooks.retry_window`), by this process only. A restart, or the instance stopping, before it
 * succeeds loses it; every outcome is logged. Call it after the delete committed, with the webhooks read in its
 * transaction; it returns at once.
 */
export function deliverDetached(app: AppServices, hooks: WebhookSnapshot[], type: WebhookEventType, data: Record<string, unknown>): void {
  const targets = hooks.filter((h) => Array.isArray(h.events) && h.events.includes(type));
  if (!targets.length) return;
  const at = new Date();
  const eventId = `evt_${randomBytes(12).toString('hex')}`;
  const state = stateOf(app);
  for (const hook of targets) {
    const body = JSON.stringify({ id: eventId, type, createdAt: at.toISOString(), data: { orgId: encodeGlobalID('Org', hook.orgId), ...data } });
    const task: Promise<void> = send(app, state.stopping.signal, hook, type, eventId, body, at).finally(() => state.tasks.delete(task));
    state.tasks.add(task);
  }
}

async function send(app: AppServices, signal: AbortSignal, hook: WebhookSnapshot, type: WebhookEventType, eventId: string, body: string, at: Date) {
  const config = app.config.webhooks;
  const log = app.log.child({ webhookId: hook.id, eventId, eventType: type });
  for (let attempt = 1; !signal.aborted; attempt++) {
    let error: string;
    try {
      const secret = openSecret(app.config.auth.secretKey, hook.secretSealed);
      const headers = { [SIGNATURE_HEADER]: signatureHeader(secret, body), [EVENT_ID_HEADER]: eventId, [EVENT_TYPE_HEADER]: type };
      const res = await postWebhook(hook.url, body, headers, { timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate, signal });
      if (res.status >= 200 && res.status < 300) return void log.info({ attempt }, 'detached webhook delivered');
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message || String(err);
    }
    if (signal.aborted) break;
    const delay = backoffMs(config, attempt);
    if (Date.now() + delay > at.getTime() + config.retryWindow * 1000) return void log.warn({ attempt, error }, 'detached webhook failed: retry window over');
    log.warn({ attempt, error, retryInMs: delay }, 'detached webhook attempt failed');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  log.warn('detached webhook not delivered: the server stopped');
}

/** Aborts detached deliveries in flight and waiting (the module's stop), and waits for them to settle. */
export async function stopDetached(app: AppServices): Promise<void> {
  const state = detached.get(app);
  if (!state) return;
  detached.delete(app);
  state.stopping.abort();
  await Promise.allSettled([...state.tasks]);
}
