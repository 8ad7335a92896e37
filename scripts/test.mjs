// `npm test`: generates typed test documents, checks which services are reachable, then runs vitest
// on SQLite and, when PostgreSQL answers, on PostgreSQL too. Redis suites run when Redis answers.
// CONFAB_TEST_REQUIRE_SERVICES=1 (set by .ci/run) turns a missing service into a failure.
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';

const pgUrl = new URL(process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const redisUrl = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const required = process.env.CONFAB_TEST_REQUIRE_SERVICES === '1';

/** A TCP connect, then the service's own greeting where cheap: enough to tell "there" from "not there". */
function reachable(host, port, probe) {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => {
      if (!probe) return done(true);
      socket.write(probe);
      socket.once('data', (buf) => done(buf.toString().startsWith('+PONG')));
    });
  });
}

const hasPg = await reachable(pgUrl.hostname, pgUrl.port || 5432);
const hasRedis = await reachable(redisUrl.hostname, redisUrl.port || 6379, 'PING\r\n');
const missing = [!hasPg && `PostgreSQL (${pgUrl.host})`, !hasRedis && `Redis (${redisUrl.host})`].filter(Boolean);
if (missing.length && required) {
  console.error(`\nRequired services unreachable: ${missing.join(', ')}. Start them (see README) and run again.\n`);
  process.exit(1);
}

const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};

if (run(process.execPath, ['node_modules/@graphql-codegen/cli/cjs/bin.js', '--config', 'codegen.ts', '--silent']) !== 0) process.exit(1);

const projects = ['--project', 'sqlite', ...(hasPg ? ['--project', 'postgres'] : [])];
const env = hasRedis ? { TEST_REDIS_URL: redisUrl.toString() } : { TEST_REDIS_URL: '' };
const status = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...projects, ...process.argv.slice(2)], env);

if (missing.length) {
  console.log(`\nNot run: ${[!hasPg && 'the PostgreSQL project (every suite again on PostgreSQL)', !hasRedis && 'the Redis suites (cross-instance events, shared rate limits)'].filter(Boolean).join('; ')}, because ${missing.join(' and ')} could not be reached.`);
}
process.exit(status);
