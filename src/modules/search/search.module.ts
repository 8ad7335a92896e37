import type { AppModule } from '../index.ts';
import { ensureSearchIndexes } from './search.index.ts';

export const searchModule: AppModule = {
  name: 'search',
  start: (app) => ensureSearchIndexes(app.config),
};
