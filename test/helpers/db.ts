import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Where PostgreSQL test databases are created (a server with trust auth in CI). */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const testDbKind = (): 'sqlite' | 'postgresql' => (process.env.CONFAB_TEST_DB === 'postgresql' ? 'postgresql' : 'sqlite');

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: a SQLite file in a fresh temp folder, or a fresh
 * PostgreSQL database. So test files run in parallel without seeing each other's rows.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (testDbKind() === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'confab-test-'));
    return { url: `file:${join(dir, 'confab.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `confab_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
