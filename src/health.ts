import { dbKind, pingDatabase } from './db/client.ts';
import type { Route } from './app-module.ts';
import pkg from '../package.json' with { type: 'json' };

interface RunState {
  draining: boolean;
  started: boolean;
  startedAt: number;
}

/**
 * `/health` reports the process and its database (503 when the database does not answer);
 * `/ready` is for load balancers: 503 before start, while draining on shutdown, or without a database.
 */
export function healthRoutes(state: RunState): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      async handler(_req, app) {
        const ok = state.started && (await pingDatabase());
        const body = {
          status: ok ? 'ok' : 'degraded',
          timestamp: new Date().toISOString(),
          service: app.config.server.serviceName,
          version: pkg.version,
          uptime: Math.round((Date.now() - state.startedAt) / 1000),
          database: { kind: dbKind, ok },
        };
        return Response.json(body, { status: ok ? 200 : 503, headers: { 'cache-control': 'no-store' } });
      },
    },
    {
      method: 'GET',
      path: '/ready',
      async handler() {
        const ready = state.started && !state.draining && (await pingDatabase());
        return Response.json({ ready }, { status: ready ? 200 : 503, headers: { 'cache-control': 'no-store' } });
      },
    },
  ];
}
