import { isObjectType, lexicographicSortSchema } from 'graphql';
import './scalars.ts';
import { builder } from './builder.ts';

/**
 * The schema from whatever the domains have put on the builder: src/modules/index.ts imports every
 * module (each imports its `*.schema.ts` files), then calls this. Sorted, so that the printed SDL is stable.
 */
export function buildSchema() {
  const schema = builder.toSchema();
  // plugin-prisma adds `totalCount` to counted connections without a description.
  for (const type of Object.values(schema.getTypeMap())) {
    const field = isObjectType(type) ? type.getFields().totalCount : undefined;
    if (field?.extensions?.pothosPrismaTotalCount && !field.description) field.description = 'How many items the whole connection has, on every page.';
  }
  return lexicographicSortSchema(schema);
}
