import type { AppModule } from '../index.ts';
import { listenForCancels } from './generations.ts';

const stops: Array<() => void> = [];

/** Hears cancels for generations of this instance asked on another (with Redis). */
export const chatModule: AppModule = {
  name: 'chat',
  start(app) {
    stops.push(listenForCancels(app));
  },
  stop() {
    for (const stop of stops.splice(0)) stop();
  },
};
