import type { AppServices } from '../../context.ts';
import type { AppModule } from '../index.ts';
import { listenForCancels } from './generations.ts';

const listeners = new Map<AppServices, () => Promise<void>>();

/** Hears cancels for generations of this instance asked on another (with Redis). */
export const chatModule: AppModule = {
  name: 'chat',
  start(app) {
    listeners.set(app, listenForCancels(app));
  },
  async stop(app) {
    const stop = listeners.get(app);
    listeners.delete(app);
    await stop?.();
  },
};
