// `npm run build:web`: builds the reference web client (web/) into web/dist, which Confab serves at
// /app. Installs web/'s own dependencies from its lockfile first when they are missing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => {
  const r = spawnSync(npm, args, { stdio: 'inherit', cwd: 'web' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (!existsSync('web/node_modules')) run(['ci', '--no-audit', '--no-fund']);
run(['run', 'build']);
