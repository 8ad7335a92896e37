// `npm test`: generates typed test documents, checks which services are reachable, then runs vitest
// on SQLite and, when PostgreSQL answers, on PostgreSQL too. Redis suites run when Redis answers.
// CONFAB_TEST_REQUIRE_SERVICES=1 (set by .ci/run) turns a missing service into a failure.
// CONFAB_TEST_PROJECTS=sqlite (or postgres, or both comma-separated) runs only those projects; the others
// are named as not run at the end.
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
  console.error(`\nRequired services unreachable: ${missing.join(', ')}. Start them (see docs/testing.md) and run again.\n`);
  process.exit(1);
}

const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};

if (run(process.execPath, ['node_modules/@graphql-codegen/cli/cjs/bin.js', '--config', 'codegen.ts', '--silent']) !== 0) process.exit(1);

// test/compiled.test.ts runs the server bundle `npm start` runs: build it from the sources being tested.
if (run(process.execPath, ['scripts/build.mjs', '--quiet']) !== 0) process.exit(1);

// The browser suites drive the web client's committed bundle (web/dist), not a build made here:
// test/web-bundle.test.ts fails when web/'s sources changed since it was built (`npm run build:web`).

const KNOWN_PROJECTS = ['sqlite', 'postgres'];
const chosen = (process.env.CONFAB_TEST_PROJECTS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
const unknownProjects = chosen.filter((p) => !KNOWN_PROJECTS.includes(p));
if (unknownProjects.length) {
  console.error(`CONFAB_TEST_PROJECTS names unknown projects: ${unknownProjects.join(', ')} (known: ${KNOWN_PROJECTS.join(', ')})`);
  process.exit(2);
}
const selected = chosen.length ? chosen : KNOWN_PROJECTS;
const notSelected = KNOWN_PROJECTS.filter((p) => !selected.includes(p));
const runProjects = selected.filter((p) => p !== 'postgres' || hasPg);
if (notSelected.length) console.log(`\nCONFAB_TEST_PROJECTS=${chosen.join(',')}: running ${runProjects.join(', ')} only; not running ${notSelected.join(', ')}.\n`);
if (!runProjects.length) {
  console.log('No test project can run: PostgreSQL is unreachable and only the postgres project was chosen.');
  process.exit(required ? 1 : 0);
}
const projects = runProjects.flatMap((p) => ['--project', p]);
const env = hasRedis ? { TEST_REDIS_URL: redisUrl.toString() } : { TEST_REDIS_URL: '' };
const status = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...projects, ...process.argv.slice(2)], env);

if (notSelected.length) {
  console.log(`\nNot run (CONFAB_TEST_PROJECTS=${chosen.join(',')}): the ${notSelected.join(' and ')} project${notSelected.length > 1 ? 's' : ''}.`);
}
const skipped = [!hasPg && selected.includes('postgres') && 'the PostgreSQL project (every suite again on PostgreSQL)', !hasRedis && 'the Redis suites (cross-instance events, shared rate limits)'].filter(Boolean);
if (skipped.length) {
  console.log(`\nNot run: ${skipped.join('; ')}, because ${missing.join(' and ')} could not be reached.`);
}
process.exit(status);
