import { defineModule } from '../../app-module.ts';
import { ensureSearchIndexes } from './search.index.ts';
import { searchPermissions } from './search.permissions.ts';
import './search.schema.ts';

/** Full-text search over what the viewer may read; makes its indexes at start. */
export const searchModule = defineModule({
  name: 'search',
  permissions: searchPermissions,
  start: (app) => ensureSearchIndexes(app.config),
});
