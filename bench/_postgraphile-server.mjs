/**
 * PostGraphile v5 in library mode, the baseline of `npm run bench reads` (started by bench/_postgraphile.ts).
 *
 * Runs under Node 22 from a cache folder that holds postgraphile and its dependencies (bench/_postgraphile.ts
 * installs them there with `npm install --prefix`, outside the project's package.json); the packages are loaded from
 * that folder with createRequire, since this file's own location would resolve them against the project's
 * node_modules.
 * Env: PGL_PREFIX (the cache folder), DATABASE_URL, PORT. Production settings: amber preset, `public` schema, no
 * GraphiQL, no watch, no explain, no subscriptions. The pool is pg's default size (10), as Confab's PrismaPg pool.
 *
 * Over its IPC channel it counts the statements its pool's clients run: `{ type: 'record' }` starts recording (answered
 * `{ type: 'recording' }`), `{ type: 'take' }` answers `{ type: 'statements', statements }` (the SQL text of each) and stops.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.env.PGL_PREFIX, 'node_modules', '_'));
const pg = require('pg');
const { postgraphile } = require('postgraphile');
const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
const { makePgService } = require('postgraphile/adaptors/pg');
const { grafserv } = require('postgraphile/grafserv/node');

let recorded = null;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
pool.on('error', (e) => console.error(`postgraphile pool: ${e.message}`));
pool.on('connect', (client) => {
  client.on('error', (e) => console.error(`postgraphile client: ${e.message}`));
  const query = client.query;
  client.query = function (config, ...rest) {
    if (recorded) recorded.push(typeof config === 'string' ? config : config?.text ?? String(config));
    return query.call(this, config, ...rest);
  };
});
process.on('message', (m) => {
  if (m?.type === 'record') {
    recorded = [];
    process.send({ type: 'recording' });
  } else if (m?.type === 'take') {
    process.send({ type: 'statements', statements: recorded ?? [] });
    recorded = null;
  }
});

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ pool, schemas: ['public'], pubsub: false })],
  grafserv: { graphiql: false, watch: false, websockets: false },
  grafast: { explain: false },
});
const serv = pgl.createServ(grafserv);
const server = createServer();
await serv.addTo(server);
await pgl.getSchema();
server.listen({ port: Number(process.env.PORT), host: '127.0.0.1' }, () => process.send?.({ type: 'ready' }));

const stop = async () => {
  server.close();
  await pgl.release();
  await pool.end();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
