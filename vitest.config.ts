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
    // Two test files at a time. Vitest's default is one fewer than the cores, which is one on a 2-core machine
    // such as CI's, and the suites mostly wait on servers and databases: one worker left a core idle. The
    // suites wait for events, never fixed durations, so they hold up under the load the second worker adds.
    maxWorkers: 2,
    projects: [
      { resolve: { alias: shared.alias }, test: { ...shared, name: 'sqlite', env: { CONFAB_TEST_DB: 'sqlite' } } },
      { resolve: { alias: shared.alias }, test: { ...shared, name: 'postgres', env: { CONFAB_TEST_DB: 'postgresql' } } },
    ],
  },
});
