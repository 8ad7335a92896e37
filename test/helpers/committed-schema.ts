import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, extendSchema, parse, type GraphQLSchema } from 'graphql';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The committed schema.graphql, extended with schema.dev.graphql (dev-only operations) when that file exists. */
export function committedSchema(dir = root): GraphQLSchema {
  const schema = buildSchema(readFileSync(join(dir, 'schema.graphql'), 'utf8'));
  const dev = join(dir, 'schema.dev.graphql');
  return existsSync(dev) ? extendSchema(schema, parse(readFileSync(dev, 'utf8'))) : schema;
}
