import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench [name…]`: runs each bench/<name>.ts in its own process (so one benchmark's memory
 * and sockets cannot skew the next) and lets each print its own figures.
 */
const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !wanted.length || wanted.includes(name));

if (!benches.length) {
  console.error(wanted.length ? `No benchmark named ${wanted.join(', ')}` : 'No benchmarks found');
  process.exit(1);
}
let failed = 0;
for (const name of benches) {
  console.log(`\n=== ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`], { stdio: 'inherit', env: process.env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
