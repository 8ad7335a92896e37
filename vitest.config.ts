import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Two projects run the same files: one on SQLite files, one on PostgreSQL databases. scripts/test.mjs
 * picks which run (PostgreSQL only when it is reachable, or always under CI).
 */
const shared = {
  include: ['test/**/*.test.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
  setupFiles: ['test/setup.ts'],
  // graphql must load once (CJS), or `instanceof GraphQLError` fails between copies and errors get masked.
  alias: { graphql: require.resolve('graphql') },
};

export default defineConfig({
  test: {
    projects: [
      { resolve: { alias: shared.alias }, test: { ...shared, name: 'sqlite', env: { CONFAB_TEST_DB: 'sqlite' } } },
      { resolve: { alias: shared.alias }, test: { ...shared, name: 'postgres', env: { CONFAB_TEST_DB: 'postgresql' } } },
    ],
  },
});
