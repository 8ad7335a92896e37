// Compiles the server to dist/confab.js, so that `npm start` runs plain JavaScript instead of compiling
// TypeScript with tsx at every start. Runs at install (postinstall, after prisma generate) and with
// `npm run build`; `npm run dev` keeps tsx.
//
// Our sources, the generated Prisma clients and most packages are bundled into one ESM file: at start Node then
// reads one file instead of resolving and reading ~1,500 modules, which was most of the start-up time (`npm run
// bench startup` compares). Left external, loaded from node_modules as usual: better-sqlite3 (a native addon), the
// @prisma/* packages (the query compiler's and the schema engine's WASM are found relative to their own files),
// pino (its transports run in worker threads from their own files), GraphiQL's 9 MB of assets (imported lazily on
// first use), and pg with its optional native binding (src/db/client.ts hands Prisma's PostgreSQL adapter a pool of its own, which
// the adapter recognizes with `instanceof pg.Pool`: there must be one copy of pg). Paths to project files (prisma/ migrations, web/dist) go through
// src/paths.ts, which finds the project root from either place.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'confab.js');
rmSync(join(root, 'dist'), { recursive: true, force: true });
const started = Date.now();

// graphql-js from its ES modules (`index.mjs` and the `.mjs` beside each file), for every importer. Resolved as
// CommonJS (its `main`), each of graphql's names that the ESM executor and Pothos use (`isListType`,
// `SchemaMetaFieldDef`, ...) is read through a getter of esbuild's CommonJS-to-ESM namespace, on every field of
// every response: 3.5 % of a nested read's CPU in a profile. Every `graphql` import and require resolves here, so
// the bundle still holds one graphql (two would break its `instanceof` checks).
const graphqlEsm = {
  name: 'graphql-esm',
  setup(b) {
    const dir = join(root, 'node_modules', 'graphql');
    b.onResolve({ filter: /^graphql(\/.*)?$/ }, (args) => {
      const sub = args.path.slice('graphql'.length).replace(/\.m?js$/, '');
      for (const candidate of [`${dir}${sub}.mjs`, `${dir}${sub}/index.mjs`]) if (existsSync(candidate)) return { path: candidate };
      return undefined;
    });
  },
};

await build({
  entryPoints: [join(root, 'src', 'index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: [
    'better-sqlite3', '@prisma/*', 'prisma', 'pino', 'pino-*', 'thread-stream',
    '@graphql-yoga/render-graphiql', '@graphql-yoga/render-graphiql/*', 'pg', 'pg-native',
  ],
  // Bundled CommonJS packages call require() for Node's built-ins: give the ESM bundle a real one.
  banner: { js: "import { createRequire as __confabCreateRequire } from 'node:module'; const require = __confabCreateRequire(import.meta.url);" },
  plugins: [graphqlEsm],
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
if (!process.argv.includes('--quiet')) console.log(`built ${outfile.slice(root.length + 1)} in ${Date.now() - started} ms`);
