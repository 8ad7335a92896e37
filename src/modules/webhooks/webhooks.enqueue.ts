import { encodeGlobalID } from '@pothos/plugin-relay';
import { randomBytes } from 'node:crypto';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import type { Published } from '../../live/bus.ts';
import { SOURCES_BY_TOPIC, type MatchedEvent, type WebhookEventType } from './webhooks.events.ts';

/** Events waiting to be written; beyond this (the database is down or far behind) new ones are dropped and logged. */
const MAX_PENDING = 10_000;
/** Events turned into rows per database round. */
const BATCH = 500;

interface PendingEvent {
  type: WebhookEventType;
  at: Date;
  matched: MatchedEvent;
}

/**
 * Turns what this process publishes into WebhookDelivery rows. The tap runs inside `publish` and only
 * matches and queues; resolving orgs, finding subscribed webhooks and writing rows happen after the
 * publisher has moved on, batched, so a busy room pays one Map lookup and an array push per event.
 */
export class WebhookEnqueuer {
  private pending: PendingEvent[] = [];
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly app: AppServices,
    /** Called after rows were written: the worker sends them now rather than at its next poll. */
    private readonly onWritten: () => void,
  ) {}

  readonly tap = (event: Published): void => {
    const sources = SOURCES_BY_TOPIC.get(event.topic);
    if (!sources) return;
    for (const source of sources) {
      const matched = source.match(event.args);
      if (!matched) continue;
      if (this.pending.length >= MAX_PENDING) {
        if (this.dropped++ % 1000 === 0) this.app.log.error({ dropped: this.dropped }, 'webhook queue full: events dropped');
        continue;
      }
      this.pending.push({ type: source.type, at: new Date(), matched });
      this.schedule();
    }
  };

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.chain = this.chain.then(() => this.drain());
    });
  }

  /** Writes everything queued so far (the module's stop calls it before the database closes). */
  async flush(): Promise<void> {
    await (this.chain = this.chain.then(() => this.drain()));
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.splice(0, BATCH);
      try {
        const written = await this.write(batch);
        if (written) this.onWritten();
      } catch (err) {
        this.app.log.error({ err, events: batch.length }, 'could not enqueue webhook deliveries');
      }
    }
  }

  private async write(batch: PendingEvent[]): Promise<number> {
    const orgIds = await Promise.all(batch.map((e) => e.matched.org()));
    const orgs = [...new Set(orgIds.filter((id): id is string => !!id))];
    if (!orgs.length) return 0;
    const hooks = await db.webhook.findMany({ where: { orgId: { in: orgs }, enabled: true }, select: { id: true, orgId: true, events: true, createdAt: true } });
    if (!hooks.length) return 0;
    const rows = [];
    for (const [i, event] of batch.entries()) {
      const orgId = orgIds[i];
      // Webhooks are read when the batch is written, which can be after the event: one created since
      // must not get what happened before it existed.
      const targets = hooks.filter((h) => h.orgId === orgId && h.createdAt <= event.at && (h.events as string[]).includes(event.type));
      if (!orgId || !targets.length) continue;
      const data = await event.matched.data();
      if (data === null) continue;
      const eventId = `evt_${randomBytes(12).toString('hex')}`;
      const body = JSON.stringify({
        id: eventId,
        type: event.type,
        createdAt: event.at.toISOString(),
        data: { orgId: encodeGlobalID('Org', orgId), ...(data as object) },
      });
      for (const hook of targets) rows.push({ webhookId: hook.id, orgId, eventId, eventType: event.type, body, nextAttemptAt: event.at, createdAt: event.at });
    }
    if (rows.length) await db.webhookDelivery.createMany({ data: rows });
    return rows.length;
  }
}
