import { useGraphQLMiddleware } from '@envelop/graphql-middleware';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createYoga, useErrorHandler, type Plugin } from 'graphql-yoga';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildPermissions, liveSharedAllowlist, nodeVisibility, openFields } from './auth/permissions.ts';
import { useActingGate } from './auth/acting.ts';
import { useVerifiedEmailGate } from './auth/verified.ts';
import { isAuthenticated } from './auth/rules.ts';
import type { Viewer } from './auth/identity.ts';
import type { NostrProof } from './auth/nostr-token.ts';
import type { Config } from './config.ts';
import { requestIdOf, type AppServices, type Context } from './context.ts';
import { createContext } from './create-context.ts';
import { openDatabase, type Db } from './db/client.ts';
import { applyMigrations } from './db/migrate.ts';
import { healthRoutes } from './health.ts';
import { clientAddress } from './http/client-address.ts';
import { useSecurityHeaders } from './http/headers.ts';
import { maskError, socketError } from './http/mask.ts';
import { requestLimitPlugins, serverTimeouts } from './http/limits.ts';
import { requestOrigin } from './http/origin.ts';
import { useRequestRateLimit } from './http/rate.ts';
import { loadTrustedDocuments, useTrustedDocuments } from './http/trusted.ts';
import { createMetrics } from './metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Route } from './app-module.ts';
import { actingFields, appModules, credentialResolvers, domainPermissions, renderLocalGraphiQL, schema as fullSchema, unverifiedFields } from './modules/index.ts';

import { accessIndex } from './live/access.ts';
import { createAppPubSub, type PubSubHandle } from './live/bus.ts';
import { useLiveHub } from './live/hub.ts';
import { serveSockets } from './live/endpoint.ts';
import { createRateLimiter } from './ratelimit.ts';
import { hideFields } from './schema/hide.ts';
import { listedFields, rootFieldsOf } from './schema/selection-walk.ts';

export interface App {
  readonly services: AppServices;
  /** The yoga instance, for in-process requests (`app.yoga.fetch`) in tests. */
  readonly yoga: ReturnType<typeof createYoga<Record<string, unknown>, Context>>;
  /** Listens; resolves with the bound port (pass 0 for a free one). */
  start(port?: number, host?: string): Promise<{ port: number; url: string; wsUrl: string }>;
  /** Graceful stop: refuse new work, finish what runs, close sockets (1001), close the database. */
  stop(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  /** Receives every SQL statement (tests count queries with it). */
  onQuery?: (sql: string, durationMs: number) => void;
  /** The time trust decay is computed at (tests move it instead of sleeping); defaults to the system clock. */
  clock?: () => Date;
}

/** Routes beside GraphQL, answered before yoga's GraphQL handling. */
function useRoutes(routes: Route[], services: AppServices): Plugin {
  const match = (path: string, route: Route) => (route.path.endsWith('/*') ? path.startsWith(route.path.slice(0, -1)) : path === route.path);
  return {
    async onRequest({ request, url, endResponse }) {
      const route = routes.find((r) => match(url.pathname, r) && (r.method === request.method || request.method === 'OPTIONS'));
      if (route && request.method !== 'OPTIONS') endResponse(await route.handler(request, services));
    },
  };
}

export function buildApp(config: Config, opts: BuildOptions = {}): App {
  const log = opts.logger ?? createLogger(config.log.level);
  const metrics = createMetrics(config, appModules, () => services);
  const bus: PubSubHandle = createAppPubSub(config.redis.url, { onReceive: metrics.pubsubLag });
  const shippedDocuments = () => appModules.map((m) => m.trustedDocuments?.()).filter((docs): docs is Record<string, string> => !!docs);
  const trusted = config.security.trustedDocuments ? loadTrustedDocuments(config.security.trustedDocuments, shippedDocuments()) : undefined;
  const services: AppServices = {
    config,
    pubsub: bus.pubsub,
    log,
    clock: opts.clock ?? (() => new Date()),
    limiter: createRateLimiter(bus.redis, config.redis.keyPrefix),
    redis: bus.redis,
    auth: { credentials: credentialResolvers, canSeeNode: nodeVisibility(domainPermissions) },
  };
  const isDev = config.env !== 'production';
  const state = { draining: false, started: false, startedAt: Date.now() };
  const routes = [...healthRoutes(state), metrics.route, ...appModules.flatMap((m) => m.routes ?? [])];
  const { limits } = config;
  const schema = hideFields(fullSchema, appModules.flatMap((m) => m.hiddenFields?.(config) ?? []));

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.server.graphiql ? { subscriptionsProtocol: 'WS', title: 'Confab GraphiQL' } : false,
    renderGraphiQL: renderLocalGraphiQL,
    landingPage: false,
    // Yoga's own bare health check would shadow ours (which reports the database).
    healthCheckEndpoint: '/_yoga/health',
    cors: config.server.corsOrigins.length ? { origin: config.server.corsOrigins, credentials: true } : false,
    logging: false,
    // useBodyLimits (requestLimitPlugins) caps every body before yoga reads it: yoga's own limit would pipe each
    // body through one more stream (about 6 % of a small request's CPU) to check the same thing again.
    maxRequestBodySize: false,
    maskedErrors: { maskError, isDev },
    context: (initial) =>
      createContext(services, {
        request: initial.request as Request | undefined,
        viewer: initial.viewer as Viewer | undefined,
        clientIp: (initial.clientIp as string | undefined) ?? clientAddress(config, initial.request as Request | undefined, initial.req as IncomingMessage | undefined),
        live: !!initial.socket,
        nostr: initial.nostr as NostrProof | undefined,
        origin: (initial.origin as string | undefined) ?? requestOrigin(config, initial.request as Request | undefined, initial.req as IncomingMessage | undefined),
      }),
    plugins: [
      useSecurityHeaders(config),
      ...requestLimitPlugins(config, '/graphql', routes.filter((r) => r.rawBody)),
      useRoutes(routes, services),
      ...(trusted ? [useTrustedDocuments(trusted)] : []),
      ...metrics.plugins,
      EnvelopArmorPlugin({
        maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
        maxAliases: { n: limits.maxAliases },
        maxTokens: { n: limits.maxTokens },
        costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
        maxDirectives: { n: 50 },
        blockFieldSuggestion: { enabled: !isDev },
      }),
      useRequestRateLimit() as Plugin,
      useGraphQLMiddleware([buildPermissions(schema, domainPermissions)]),
      useActingGate(actingFields),
      useVerifiedEmailGate(config.auth.requireVerifiedEmail, unverifiedFields),
      useLiveHub({
        shared: config.server.liveSharedExecution,
        sharing: (s) => ({
          open: openFields(domainPermissions),
          // A root rule that depends on the viewer's kind alone evaluates alike in a group (the kind is in its key).
          openRoot: openFields(domainPermissions, [isAuthenticated]),
          shared: listedFields(s, liveSharedAllowlist(domainPermissions)),
        }),
        write: (socket, head, result) => ws.writeNext(socket, head, result),
        finish: (result, context) => finishLiveResult(result, context),
        delivered: metrics.delivered,
        fieldOf: rootField,
      }),
      useErrorHandler(({ errors, context }) => {
        for (const error of errors) {
          const original = error instanceof GraphQLError ? error.originalError : error;
          if (original && !(original instanceof GraphQLError)) {
            ((context as Partial<Context>).log ?? log).error({ err: original }, 'unexpected error');
          }
        }
      }),
      useAccessLog(log),
      useCloseWhileDraining(state),
    ],
  });

  /** A live event's result as yoga would hand it out: unexpected errors logged, every error masked as for a socket. */
  const finishLiveResult = (result: ExecutionResult, context: unknown): ExecutionResult => {
    if (!result.errors?.length) return result;
    for (const error of result.errors) {
      const original = error instanceof GraphQLError ? error.originalError : error;
      if (original && !(original instanceof GraphQLError)) ((context as Partial<Context>)?.log ?? log).error({ err: original }, 'unexpected error');
    }
    return { ...result, errors: result.errors.map((e) => socketError(maskError(e, 'Unexpected error.', isDev) as GraphQLError)) };
  };

  const server: Server = createServer(serverTimeouts(config), yoga);
  // Listening for access changes from the start: a revocation published right after a socket opens is heard.
  accessIndex(bus.pubsub);
  const ws = serveSockets({
    server,
    yoga,
    services,
    metrics,
    isDraining: () => state.draining,
    trusted,
    modules: appModules,
    fieldOf: rootField,
  });
  const wss = ws.wss;

  let client: Db | undefined;
  async function start(port = config.server.port, host = config.server.host) {
    if (config.database.migrate) {
      const applied = await applyMigrations(config.database.url);
      if (applied.length) log.info({ applied }, 'applied migrations');
    }
    const onQuery = (sql: string, ms: number) => {
      metrics.dbQuery(sql, ms);
      opts.onQuery?.(sql, ms);
    };
    client = await openDatabase(config.database.url, { onQuery: config.metrics.enabled ? onQuery : opts.onQuery });
    for (const m of appModules) await m.start?.(services);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    state.started = true;
    const bound = (server.address() as AddressInfo).port;
    const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
    log.info({ port: bound, host, database: config.database.url.split(':')[0] }, 'confab listening');
    return { port: bound, url: `http://${shown}:${bound}/graphql`, wsUrl: `ws://${shown}:${bound}/graphql` };
  }

  let stopping: Promise<void> | undefined;
  function stop() {
    stopping ??= (async () => {
      state.draining = true;
      const closed = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      // server.close() closes the keep-alive connections idle right now, once. A busy client's
      // connection would otherwise carry new requests until the timeout cuts everything: responses
      // now say `Connection: close` (useCloseWhileDraining), and connections that fall idle later
      // (a response already under way at SIGTERM) are closed as they do.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      // Sockets close with 1001 at once, or as soon as the queries and mutations running on them are answered.
      ws.drain();
      const deadline = Date.now() + config.server.shutdownTimeoutMs;
      const timer = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of wss.clients) socket.close(1001, 'Server shutting down');
      }, config.server.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      clearInterval(sweep);
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const m of [...appModules].reverse()) await m.stop?.(services, { deadline });
      await bus.close();
      await client?.$disconnect();
      log.info('confab stopped');
    })();
    return stopping;
  }

  return { services, yoga, start, stop };
}

/** The first field an operation selects (`roomEvents`): the label of its subscription metrics. */
function rootField(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): string {
  return rootFieldsOf(schema, document, operationName)[0]?.split('.')[1] ?? 'unknown';
}

/** While draining, every response ends its connection: the client's next request finds the door closed. */
function useCloseWhileDraining(state: { draining: boolean }): Plugin {
  return {
    onResponse({ response }) {
      if (state.draining) response.headers.set('connection', 'close');
    },
  };
}

/** One JSON line per HTTP request, with the request id that errors are logged under. */
function useAccessLog(log: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
    },
    onResponse({ request, response }) {
      const begin = started.get(request);
      if (begin === undefined) return;
      response.headers.set('x-request-id', requestIdOf(request));
      const url = new URL(request.url);
      if (url.pathname === '/health' || url.pathname === '/ready') return;
      log.info(
        {
          method: request.method,
          path: url.pathname,
          status: response.status,
          ms: Math.round(performance.now() - begin),
          requestId: requestIdOf(request),
        },
        'request',
      );
    },
  };
}
