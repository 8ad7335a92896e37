import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_MAP, loadConfig } from '../src/config.ts';

/**
 * The deployment units (Dockerfile, compose.yaml, deploy/) cannot all be run here (no Docker daemon,
 * no systemd as init), so their syntax and the properties that matter are checked: multi-stage and
 * non-root image with a health check, compose services with health checks and ordered start, a
 * hardened systemd unit that outlasts the drain, and every environment variable one of them passes is
 * one that src/config.ts reads. The real tools run too when this machine has them.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');
const DEFAULT_SHUTDOWN_MS = loadConfig({ env: {}, file: false }).server.shutdownTimeoutMs;
/** src/index.ts exits by itself this long after the drain window. */
const EXIT_GRACE_MS = 5000;

/** Whether a command runs at all (exit 0 for `args`); prints why a check is skipped otherwise. */
function tool(cmd: string, args: string[], what: string): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status === 0) return true;
  console.log(`deploy.test: skipped ${what}: \`${[cmd, ...args].join(' ')}\` ${r.error ? 'is not installed' : `failed (${(r.stderr || r.stdout).trim().split('\n')[0]})`}`);
  return false;
}

function knownEnv(names: string[]) {
  const unknown = names.filter((n) => !(n in ENV_MAP));
  expect(unknown, 'environment variables src/config.ts does not read').toEqual([]);
}

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; stage = index of the FROM above. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (pending && line.startsWith('#')) continue;
    pending += (pending ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const [, op, args] = /^(\w+)\s+(\S.*)$/s.exec(pending) ?? [];
    pending = '';
    if (!op) continue;
    if (op.toUpperCase() === 'FROM') stage++;
    out.push({ op: op.toUpperCase(), args, stage });
  }
  return out;
}

/** `--flag=value` options and the remaining words of an instruction (JSON form or plain words). */
function words(args: string): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  let rest = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  while (rest[0]?.startsWith('--')) {
    const [k, v = ''] = rest[0].slice(2).split('=');
    flags[k] = v;
    rest = rest.slice(1);
  }
  return { flags, rest };
}

/** `KEY=value` pairs of an ENV instruction. */
const envPairs = (args: string) => Object.fromEntries([...args.matchAll(/\b(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));

describe.runIf(process.env.CONFAB_TEST_DB !== 'postgresql')('deployment units', () => {
  it('Dockerfile: multi-stage, non-root, health check, volume, sources that exist', () => {
    const ins = parseDockerfile(read('Dockerfile'));
    const froms = ins.filter((i) => i.op === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const stageNames = froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]);
    const last = froms.length - 1;
    const final = ins.filter((i) => i.stage === last);

    const user = final.filter((i) => i.op === 'USER').at(-1)?.args.trim();
    expect(user, 'the runtime stage sets a USER').toBeTruthy();
    expect(['root', '0', '0:0']).not.toContain(user);
    // Nothing after USER switches back to root.
    const userIndex = final.findIndex((i) => i.op === 'USER' && i.args.trim() === user);
    expect(final.slice(userIndex).filter((i) => i.op === 'RUN')).toEqual([]);

    const health = final.find((i) => i.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/\/(health|ready)\b/);
    const exposed = final.find((i) => i.op === 'EXPOSE')?.args.trim();
    const env = Object.assign({}, ...final.filter((i) => i.op === 'ENV').map((i) => envPairs(i.args)));
    expect(exposed).toBe(env.CONFAB_PORT);
    expect(health?.args).toContain(`|| ${exposed}`);
    knownEnv(Object.keys(env));
    expect(env.NODE_ENV).toBe('production');
    // The SQLite default points into the volume.
    const volume = words(final.find((i) => i.op === 'VOLUME')!.args).rest;
    expect(env.DATABASE_URL).toMatch(new RegExp(`^file:${volume[0]}/`));

    const cmd = words(final.find((i) => i.op === 'CMD')!.args).rest;
    expect(cmd).toContain('serve');
    // It runs the bundle that `npm run build` (scripts/build.mjs, also the postinstall) makes, as `npm start` does.
    expect(cmd).toContain('dist/confab.js');
    expect(JSON.parse(read('package.json')).scripts.start).toContain('dist/confab.js serve');
    expect(existsSync(join(root, 'scripts/build.mjs'))).toBe(true);

    // Sources from the build context exist and are not excluded by .dockerignore.
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const copy of ins.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
      const { flags, rest } = words(copy.args);
      const sources = rest.slice(0, -1);
      if (flags.from) {
        expect(stageNames, `COPY --from=${flags.from}`).toContain(flags.from);
        // What the build stage holds under its WORKDIR is the repository plus what npm and the web build make.
        for (const src of sources) {
          const rel = src.replace(/^\/app\//, '');
          expect(existsSync(join(root, rel)) || ['node_modules', 'dist', 'web/dist'].includes(rel), `COPY --from source ${src}`).toBe(true);
        }
        continue;
      }
      for (const src of sources) {
        if (src === '.') continue;
        expect(existsSync(join(root, src)), `COPY source ${src}`).toBe(true);
        expect(ignored, `COPY source ${src} is excluded by .dockerignore`).not.toContain(src);
      }
    }
    // Dependencies and generated code are made inside the image, never copied from the host.
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', 'src/generated', 'web/dist', '.git']));
  });

  it('compose.yaml: PostgreSQL, Redis and two instances behind a proxy, all health-checked and ordered', () => {
    const compose = parseYaml(read('compose.yaml'), { merge: true }) as any;
    const services = compose.services as Record<string, any>;
    expect(Object.keys(services).sort()).toEqual(['confab-1', 'confab-2', 'postgres', 'proxy', 'redis']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} has a healthcheck`).toBeTruthy();
    }
    const instances = [services['confab-1'], services['confab-2']];
    const secret = 'k'.repeat(40);
    for (const instance of instances) {
      expect(instance.build).toBe('.');
      expect(instance.healthcheck.test.join(' ')).toMatch(/\/(health|ready)\b/);
      expect(instance.depends_on.postgres.condition).toBe('service_healthy');
      expect(instance.depends_on.redis.condition).toBe('service_healthy');
      const env = instance.environment as Record<string, string>;
      knownEnv(Object.keys(env));
      // The values are valid configuration (the secret comes from the caller's environment).
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{CONFAB_SECRET_KEY[^}]*\}/, secret)]));
      const config = loadConfig({ env: resolved, file: false });
      expect(config.env).toBe('production');
      expect(config.database.url).toMatch(/^postgresql:\/\/[^@]+@postgres:5432\//);
      expect(config.redis.url).toBe('redis://redis:6379');
      expect(config.server.trustProxy).toBe(true);
      // Exactly the one proxy in front: its entry is the client, nothing the client wrote before it.
      expect(config.server.trustedProxies).toBe(1);
      expect(config.auth.secretKey).toBe(secret);
      expect(instance.healthcheck.test.join(' ')).toContain(`:${config.server.port}/`);
      // docker stop waits longer than the drain plus the process's own grace before SIGKILL.
      expect(Number(/^(\d+)s$/.exec(instance.stop_grace_period)?.[1]) * 1000).toBeGreaterThan(config.server.shutdownTimeoutMs + EXIT_GRACE_MS);
    }
    // One instance applies pending migrations before the other starts.
    expect(services['confab-2'].depends_on['confab-1'].condition).toBe('service_healthy');

    const proxy = services.proxy;
    expect(proxy.depends_on['confab-1'].condition).toBe('service_healthy');
    expect(proxy.depends_on['confab-2'].condition).toBe('service_healthy');
    expect(proxy.ports).toContain('8080:80');
    const mount = (proxy.volumes as string[]).find((v) => v.includes('nginx'))!;
    const conf = read(mount.split(':')[0]);
    expect(conf).toMatch(/server confab-1:4000/);
    expect(conf).toMatch(/server confab-2:4000/);
    // graphql-ws goes through: the handshake's Upgrade headers are passed on over HTTP/1.1.
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    // The proxy overwrites X-Forwarded-For: appending ($proxy_add_x_forwarded_for) would pass on what the client sent.
    expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(conf).not.toMatch(/\$proxy_add_x_forwarded_for/);
    expect(services.postgres.healthcheck.test.join(' ')).toMatch(/pg_isready/);
    expect(services.redis.healthcheck.test.join(' ')).toMatch(/ping/);

    const env = { ...process.env, CONFAB_SECRET_KEY: secret };
    if (tool('docker', ['compose', 'version'], 'docker compose config')) {
      const r = spawnSync('docker', ['compose', '-f', 'compose.yaml', 'config', '-q'], { cwd: root, env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('systemd unit: unprivileged, hardened, restarts on failure, outlasts the drain on SIGTERM', () => {
    const unit: Record<string, Record<string, string[]>> = {};
    let section = '';
    for (const line of read('deploy/confab.service').split('\n').map((l) => l.trim())) {
      if (!line || line.startsWith('#')) continue;
      const header = /^\[(\w+)\]$/.exec(line);
      if (header) {
        section = header[1];
        unit[section] = {};
        continue;
      }
      const [key, ...value] = line.split('=');
      (unit[section][key] ??= []).push(value.join('='));
    }
    const service = Object.fromEntries(Object.entries(unit.Service).map(([k, v]) => [k, v.at(-1)!]));
    expect(['simple', 'exec']).toContain(service.Type);
    expect(service.User).toBe('confab');
    expect(service.Restart).toBe('on-failure');
    expect(service.KillSignal).toBe('SIGTERM');
    expect(Number(/^(\d+)s$/.exec(service.TimeoutStopSec)?.[1]) * 1000).toBeGreaterThan(DEFAULT_SHUTDOWN_MS + EXIT_GRACE_MS);
    expect(service.EnvironmentFile).toMatch(/^-?\//);
    expect(service.NoNewPrivileges).toBe('yes');
    expect(service.ProtectSystem).toBe('strict');
    expect(service.ProtectHome).toBe('yes');
    expect(service.PrivateTmp).toBe('yes');
    expect(service.ExecStart).toMatch(/^\/\S*node .*dist\/confab\.js serve$/);
    expect(unit.Install.WantedBy).toEqual(['multi-user.target']);
    // The state directory systemd creates is where the example puts the SQLite file.
    const example = Object.fromEntries(
      read('deploy/confab.env.example').split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]),
    );
    knownEnv(Object.keys(example));
    knownEnv(unit.Service.Environment.map((e) => e.split('=')[0]));
    expect(example.DATABASE_URL).toBe(`file:/var/lib/${service.StateDirectory}/confab.db`);
    const config = loadConfig({ env: example, file: false });
    // Behind the shipped nginx on this host: one trusted hop.
    expect(config.server.trustedProxies).toBe(1);
    expect(config.server.shutdownTimeoutMs + EXIT_GRACE_MS).toBeLessThan(Number(service.TimeoutStopSec.slice(0, -1)) * 1000);

    if (tool('systemd-analyze', ['--version'], 'systemd-analyze verify')) {
      const r = spawnSync('systemd-analyze', ['verify', join(root, 'deploy/confab.service')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      // verify prints problems as warnings and still exits 0 for some of them.
      expect(r.stderr.split('\n').filter((l) => l.includes('confab.service'))).toEqual([]);
    }
  });
});
