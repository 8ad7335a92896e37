import { lexicographicSortSchema } from 'graphql';
import './scalars.ts';
import { builder } from './builder.ts';

/**
 * The schema from whatever the domains have put on the builder: src/modules/index.ts imports every
 * module (each imports its `*.schema.ts` files), then calls this. Sorted, so that the printed SDL is stable.
 */
export function buildSchema() {
  return lexicographicSortSchema(builder.toSchema());
}
