import { defineModule, type ModuleGauge } from '../../app-module.ts';
import { db } from '../../db/client.ts';
import { stopDetached } from './webhooks.detached.ts';
import { WebhookEnqueuer } from './webhooks.enqueue.ts';
import { webhooksPermissions } from './webhooks.permissions.ts';
import { running } from './webhooks.running.ts';
import { startDeliveryWorker } from './webhooks.worker.ts';
import './webhooks.schema.ts';
import './deliveries.schema.ts';

/**
 * Outbound webhooks: a tap on what this process publishes writes deliveries; a worker sends them.
 * Stop unhooks the tap, writes what was still queued, then stops the worker.
 */
export const webhooksModule = defineModule({
  name: 'webhooks',
  permissions: webhooksPermissions,
  start(app) {
    const worker = startDeliveryWorker(app);
    const enqueuer = new WebhookEnqueuer(app, worker.nudge);
    running.set(app, { enqueuer, worker, untap: app.pubsub.onLocalPublish(enqueuer.tap) });
  },
  gauges: () => webhookGauges,
  async stop(app) {
    await stopDetached(app);
    const r = running.get(app);
    if (!r) return;
    running.delete(app);
    r.untap();
    await r.enqueuer.flush();
    await r.worker.stop();
  },
});

const webhookGauges: ModuleGauge[] = [
  {
    name: 'confab_webhook_deliveries',
    help: 'Stored webhook deliveries waiting to be sent (PENDING) or given up (FAILED)',
    labelNames: ['status'],
    async read() {
      const rows = await db.webhookDelivery.groupBy({ by: ['status'], where: { status: { in: ['PENDING', 'FAILED'] } }, _count: { _all: true } });
      const count = (status: string) => rows.find((r) => r.status === status)?._count._all ?? 0;
      return ['PENDING', 'FAILED'].map((status) => ({ labels: { status }, value: count(status) }));
    },
  },
  {
    name: 'confab_webhook_worker_in_flight',
    help: 'Webhook deliveries this instance is sending now',
    read: async (app) => [{ value: running.get(app)?.worker.state().inFlight ?? 0 }],
  },
  {
    name: 'confab_webhook_worker_last_pass_timestamp_seconds',
    help: 'When this instance last finished a pass over due webhook deliveries (0 before the first)',
    read: async (app) => [{ value: (running.get(app)?.worker.state().lastPassAt ?? 0) / 1000 }],
  },
];
