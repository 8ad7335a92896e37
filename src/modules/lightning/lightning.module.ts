import type { AppServices } from '../../context.ts';
import { devSettleAllowed } from './lightning.backend.ts';
import type { AppModule } from '../index.ts';
import { lightningRoutes } from './lightning.routes.ts';
import { startPaymentWorker } from './lightning.worker.ts';

const workers = new Map<AppServices, { stop(): Promise<void> }>();

/** Payments: the LNbits webhook, and the worker that polls pending invoices and expires stale ones. */
export const lightningModule: AppModule = {
  name: 'lightning',
  routes: lightningRoutes,
  // settleDevInvoice stands in for a payer: with a real wallet, or in production, it must not exist at all.
  hiddenFields: (config) => (devSettleAllowed(config) ? [] : ['Mutation.settleDevInvoice']),
  start(app) {
    workers.set(app, startPaymentWorker(app));
  },
  async stop(app) {
    const worker = app && workers.get(app);
    if (!worker) return;
    workers.delete(app);
    await worker.stop();
  },
};
