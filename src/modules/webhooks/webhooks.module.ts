import type { AppServices } from '../../context.ts';
import type { AppModule, ModuleGauge } from '../../app-module.ts';
import { db } from '../../db/client.ts';
import { WebhookEnqueuer } from './webhooks.enqueue.ts';
import { startDeliveryWorker } from './webhooks.worker.ts';

interface Running {
  enqueuer: WebhookEnqueuer;
  worker: ReturnType<typeof startDeliveryWorker>;
  untap: () => void;
}
const running = new Map<AppServices, Running>();

/** Tells this app's worker that deliveries are due now (a redelivery), instead of at its next poll. */
export function nudgeDeliveries(app: AppServices) {
  running.get(app)?.worker.nudge();
}

/**
 * Outbound webhooks: a tap on what this process publishes writes deliveries; a worker sends them.
 * Stop unhooks the tap, writes what was still queued, then stops the worker.
 */
export const webhooksModule: AppModule = {
  name: 'webhooks',
  start(app) {
    const worker = startDeliveryWorker(app);
    const enqueuer = new WebhookEnqueuer(app, worker.nudge);
    running.set(app, { enqueuer, worker, untap: app.pubsub.onLocalPublish(enqueuer.tap) });
  },
  gauges: () => webhookGauges,
  async stop(app) {
    const r = running.get(app);
    if (!r) return;
    running.delete(app);
    r.untap();
    await r.enqueuer.flush();
    await r.worker.stop();
  },
};

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
