import type { AppServices } from '../../context.ts';
import { devSettleAllowed } from './lightning.backend.ts';
import { defineModule, type ModuleGauge } from '../../app-module.ts';
import { db } from '../../db/client.ts';
import { lightningRoutes } from './lightning.routes.ts';
import { startPaymentWorker } from './lightning.worker.ts';

const DEV_ONLY_FIELDS = ['Mutation.settleDevInvoice'];

const workers = new Map<AppServices, ReturnType<typeof startPaymentWorker>>();

/** Payments: the LNbits webhook, and the worker that polls pending invoices and expires stale ones. */
export const lightningModule = defineModule({
  name: 'lightning',
  routes: lightningRoutes,
  // settleDevInvoice stands in for a payer: with a real wallet, or in production, it must not exist at all.
  devOnlyFields: DEV_ONLY_FIELDS,
  hiddenFields: (config) => (devSettleAllowed(config) ? [] : DEV_ONLY_FIELDS),
  gauges: () => paymentGauges,
  start(app) {
    workers.set(app, startPaymentWorker(app));
  },
  async stop(app) {
    const worker = app && workers.get(app);
    if (!worker) return;
    workers.delete(app);
    await worker.stop();
  },
});

const paymentGauges: ModuleGauge[] = [
  {
    name: 'confab_invoices_pending',
    help: 'Invoices waiting for payment',
    read: async () => [{ value: await db.invoice.count({ where: { state: 'PENDING' } }) }],
  },
  {
    name: 'confab_payment_worker_last_sweep_timestamp_seconds',
    help: 'When this instance last finished a payment sweep (pending invoices, expiries; 0 before the first)',
    read: async (app) => [{ value: (workers.get(app)?.state().lastSweepAt ?? 0) / 1000 }],
  },
  {
    name: 'confab_payment_worker_last_sweep_ok',
    help: '1 when the last payment sweep succeeded, 0 when it failed',
    read: async (app) => [{ value: workers.get(app)?.state().lastSweepOk === false ? 0 : 1 }],
  },
];
