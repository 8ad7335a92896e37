// What runs for each app while it runs (the module starts and stops it; the service nudges its worker).
import type { AppServices } from '../../context.ts';
import type { WebhookEnqueuer } from './webhooks.enqueue.ts';
import type { startDeliveryWorker } from './webhooks.worker.ts';

export interface Running {
  enqueuer: WebhookEnqueuer;
  worker: ReturnType<typeof startDeliveryWorker>;
  untap: () => void;
}

/** The tap's enqueuer and the delivery worker of each started app. */
export const running = new Map<AppServices, Running>();

/** Tells this app's worker that deliveries are due now (a redelivery), instead of at its next poll. */
export function nudgeDeliveries(app: AppServices) {
  running.get(app)?.worker.nudge();
}
