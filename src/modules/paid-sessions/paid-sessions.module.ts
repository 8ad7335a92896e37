import type { AppModule } from '../index.ts';
import { ensurePool } from './pool.ts';

/** Prepaid sessions: the free-tier pool row is made (or grown to its configured size) at start. */
export const paidSessionsModule: AppModule = {
  name: 'paid-sessions',
  async start(app) {
    await ensurePool(app);
  },
};
