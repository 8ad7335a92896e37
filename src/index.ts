import { parseArgs } from 'node:util';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { applyMigrations, createMigration } from './db/migrate.ts';

const USAGE = `Usage:
  confab serve [--port <n>] [--host <h>] [--config <file>]   run the server (default)
  confab migrate [--config <file>]                          apply pending migrations to DATABASE_URL
  confab migration:new <name>                               create migrations (SQLite and PostgreSQL) from prisma/models.prisma`;

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const [command = 'serve', ...rest] = positionals;
  const env = { ...process.env, ...(values.port ? { CONFAB_PORT: values.port } : {}), ...(values.host ? { CONFAB_HOST: values.host } : {}) };

  switch (command) {
    case 'serve': {
      const app = buildApp(loadConfig({ env, file: values.config }));
      const { url } = await app.start();
      app.services.log.info(`GraphQL and GraphiQL at ${url}`);
      let signalled = false;
      const shutdown = (signal: string) => {
        if (signalled) return;
        signalled = true;
        app.services.log.info({ signal }, 'shutting down');
        // Bounded: if something hangs past the drain window, leave anyway.
        setTimeout(() => process.exit(1), app.services.config.server.shutdownTimeoutMs + 5000).unref();
        app.stop().then(() => process.exit(0), (err) => {
          app.services.log.error({ err }, 'error while stopping');
          process.exit(1);
        });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      return;
    }
    case 'migrate': {
      const config = loadConfig({ env, file: values.config });
      const applied = await applyMigrations(config.database.url, { log: (m) => console.log(m) });
      return console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
    }
    case 'migration:new': {
      const name = rest[0];
      if (!name || !/^[a-z0-9_]+$/.test(name)) throw new ConfigError('migration:new needs a name of lower-case letters, digits and _');
      const made = await createMigration(name);
      return console.log(made);
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
