import { afterAll } from 'vitest';
import { leftovers } from './helpers/leftovers.ts';

/** Whatever a test file started and did not stop is stopped here, newest first. */
afterAll(async () => {
  for (const stop of leftovers.splice(0).reverse()) await stop().catch(() => {});
});
