import type { AppServices } from '../../context.ts';
import type { AppModule } from '../index.ts';
import { drainGenerations, listenForCancels } from './generations.ts';

const listeners = new Map<AppServices, () => Promise<void>>();

/** Hears cancels for generations of this instance asked on another (with Redis); on stop, drains them. */
export const chatModule: AppModule = {
  name: 'chat',
  start(app) {
    listeners.set(app, listenForCancels(app));
  },
  async stop(app, { deadline }) {
    await drainGenerations(app, deadline);
    const stop = listeners.get(app);
    listeners.delete(app);
    await stop?.();
  },
};
