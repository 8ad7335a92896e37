// `npm run build:web`: type-checks and builds the reference web client (web/) into web/dist, which Confab serves
// at /app, then writes the hash of the build's inputs beside it (scripts/web-inputs.mjs). web/dist is committed:
// run this after changing anything under web/ (or its lockfile) and commit web/dist with the change;
// test/web-bundle.test.ts fails until then. Installs web/'s own dependencies from its lockfile first when they
// are missing.
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { STAMP, webInputsHash } from './web-inputs.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => {
  const r = spawnSync(npm, args, { stdio: 'inherit', cwd: 'web' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync('web/node_modules')) run(['ci', '--no-audit', '--no-fund']);
run(['run', 'build']);
writeFileSync(join('web', STAMP), `${webInputsHash('web')}\n`);
