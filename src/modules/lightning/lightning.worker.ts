import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { closeInvoice, settleInvoice } from '../invoices/invoices.service.ts';
import { expireDueSessions } from '../paid-sessions/paid-sessions.ledger.ts';
import { releaseStaleHolds } from '../paid-sessions/spend.ts';
import { lightningFor } from './lightning.backend.ts';

const BATCH = 100;

/**
 * One pass of the payment worker: ask the backend about pending invoices (settling the paid ones),
 * expire invoices past their time (after one last check), then expire sessions past theirs. Every
 * write is conditional, so instances running this at once cannot double-settle or double-expire.
 */
export async function paymentSweep(app: AppServices) {
  const backend = lightningFor(app.config);
  const now = new Date();
  if (backend.name !== 'dev') {
    const pending = await db.invoice.findMany({
      where: { state: 'PENDING', backend: backend.name },
      orderBy: { createdAt: 'asc' },
      take: BATCH,
      select: { id: true, paymentHash: true },
    });
    for (const inv of pending) {
      try {
        if (await backend.isPaid(inv.paymentHash)) await settleInvoice(app, { id: inv.id });
      } catch (err) {
        app.log.warn({ err, invoiceId: inv.id }, 'could not check invoice');
      }
    }
  }
  const stale = await db.invoice.findMany({
    where: { state: 'PENDING', expiresAt: { lte: now } },
    take: BATCH,
    select: { id: true, paymentHash: true, backend: true },
  });
  for (const inv of stale) {
    // A payment that arrived just before expiry must not be lost to the sweep.
    if (inv.backend === backend.name && backend.name !== 'dev') {
      const paid = await backend.isPaid(inv.paymentHash).catch(() => null);
      if (paid === null) continue;
      if (paid) {
        await settleInvoice(app, { id: inv.id });
        continue;
      }
    }
    await closeInvoice(app, inv.id, 'EXPIRED');
  }
  await expireDueSessions(app);
  await releaseStaleHolds(app);
}

/** Runs the sweep every `lightning.poll_interval` ms until stopped; stop waits for a running pass. */
export function startPaymentWorker(app: AppServices) {
  let running: Promise<void> | undefined;
  const state = { lastSweepAt: 0, lastSweepOk: true };
  const tick = () => {
    running ??= paymentSweep(app)
      .then(() => void (state.lastSweepOk = true))
      .catch((err) => {
        state.lastSweepOk = false;
        app.log.error({ err }, 'payment sweep failed');
      })
      .finally(() => {
        state.lastSweepAt = Date.now();
        running = undefined;
      });
  };
  const timer = setInterval(tick, app.config.lightning.pollInterval);
  timer.unref();
  return {
    /** For /metrics: when the last sweep ended and whether it succeeded. */
    state: () => ({ ...state }),
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
