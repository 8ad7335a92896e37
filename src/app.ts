import { useGraphQLMiddleware } from '@envelop/graphql-middleware';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, useErrorHandler, type Plugin } from 'graphql-yoga';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { buildPermissions } from './auth/permissions.ts';
import { resolveViewer, type Viewer } from './auth/viewer.ts';
import type { Config } from './config.ts';
import { createContext, requestIdOf, type AppServices, type Context } from './context.ts';
import { openDatabase, type Db } from './db.ts';
import { applyMigrations } from './db/migrate.ts';
import { healthRoutes } from './health.ts';
import { createLogger, type Logger } from './logger.ts';
import { appModules, type Route, type SocketInfo } from './modules/index.ts';
import { createAppPubSub, type PubSubHandle } from './pubsub.ts';
import { createRateLimiter } from './ratelimit.ts';
import { hideFields } from './schema/hide.ts';
import { schema as fullSchema } from './schema/index.ts';

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
  onQuery?: (sql: string) => void;
}

const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

/** Client-caused errors keep their message and code; anything else is masked (details only outside production). */
function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    const code = error.extensions?.code as string | undefined;
    if (code && !REQUEST_ERROR_CODES.has(code)) return error;
    // Parse, validation and query-limit failures join the documented set as BAD_USER_INPUT; the
    // specific kind stays in `reason`.
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}) },
    });
  }
  const original = error instanceof GraphQLError ? error.originalError : error;
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: {
      code: 'INTERNAL_SERVER_ERROR',
      ...(isDev && original instanceof Error ? { originalError: { message: original.message } } : {}),
    },
  });
}

/** The client's address: the socket's, or the first X-Forwarded-For hop when behind a trusted proxy. */
function clientAddress(config: Config, request?: Request, req?: IncomingMessage): string {
  const forwarded = request?.headers.get('x-forwarded-for') ?? (req?.headers['x-forwarded-for'] as string | undefined);
  if (config.server.trustProxy && forwarded) return forwarded.split(',')[0].trim();
  return req?.socket?.remoteAddress ?? 'unknown';
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
  const bus: PubSubHandle = createAppPubSub(config.redis.url);
  const services: AppServices = { config, pubsub: bus.pubsub, log, limiter: createRateLimiter(bus.redis, config.redis.keyPrefix), redis: bus.redis };
  const isDev = config.env !== 'production';
  const state = { draining: false, started: false, startedAt: Date.now() };
  const routes = [...healthRoutes(state), ...appModules.flatMap((m) => m.routes ?? [])];
  const { limits } = config;
  const schema = hideFields(fullSchema, appModules.flatMap((m) => m.hiddenFields?.(config) ?? []));

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: { subscriptionsProtocol: 'WS', title: 'Confab GraphiQL' },
    landingPage: false,
    // Yoga's own bare health check would shadow ours (which reports the database).
    healthCheckEndpoint: '/_yoga/health',
    cors: config.server.corsOrigins.length ? { origin: config.server.corsOrigins, credentials: true } : false,
    logging: false,
    maskedErrors: { maskError, isDev },
    context: (initial) =>
      createContext(services, {
        request: initial.request as Request | undefined,
        viewer: initial.viewer as Viewer | undefined,
        clientIp: (initial.clientIp as string | undefined) ?? clientAddress(config, initial.request as Request | undefined, initial.req as IncomingMessage | undefined),
      }),
    plugins: [
      useRoutes(routes, services),
      EnvelopArmorPlugin({
        maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
        maxAliases: { n: limits.maxAliases },
        maxTokens: { n: limits.maxTokens },
        costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true },
        maxDirectives: { n: 50 },
        blockFieldSuggestion: { enabled: !isDev },
      }),
      useGraphQLMiddleware([buildPermissions(schema)]),
      useErrorHandler(({ errors, context }) => {
        for (const error of errors) {
          const original = error instanceof GraphQLError ? error.originalError : error;
          if (original && !(original instanceof GraphQLError)) {
            ((context as Partial<Context>).log ?? log).error({ err: original }, 'unexpected error');
          }
        }
      }),
      useAccessLog(log),
    ],
  });

  const server: Server = createServer(yoga);
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const ws = useServer<Record<string, unknown>, { viewer?: Viewer; conn?: SocketInfo }>(
    {
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      // Credentials come once, in connectionParams; bad ones close the socket with 4403.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        try {
          const viewer = await resolveViewer(services, {
            authorization: typeof params.authorization === 'string' ? params.authorization : (params.Authorization as string | undefined),
            apiKey: typeof params.apiKey === 'string' ? params.apiKey : undefined,
          });
          ctx.extra.viewer = viewer;
          const conn: SocketInfo = { id: randomUUID(), params };
          for (const m of appModules) await m.onSocketOpen?.(viewer, services, conn);
          ctx.extra.conn = conn;
          return true;
        } catch {
          return false;
        }
      },
      onClose: async (ctx) => {
        const { viewer, conn } = ctx.extra;
        if (!viewer || !conn) return;
        for (const m of appModules) await m.onSocketClose?.(viewer, services, conn);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const request = ctx.extra.request;
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: request,
          socket: ctx.extra.socket,
          params: payload,
          viewer: ctx.extra.viewer,
          clientIp: clientAddress(config, undefined, request),
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [new GraphQLError((err as Error).message, { extensions: { code: 'BAD_USER_INPUT' } })];
        }
        const errors = validate(s, document);
        if (errors.length) return errors.map((e: GraphQLError) => maskError(e, e.message, isDev) as GraphQLError);
        return {
          schema: s,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
  );

  let client: Db | undefined;
  async function start(port = config.server.port, host = config.server.host) {
    if (config.database.migrate) {
      const applied = await applyMigrations(config.database.url);
      if (applied.length) log.info({ applied }, 'applied migrations');
    }
    client = await openDatabase(config.database.url, { onQuery: opts.onQuery });
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
      server.closeIdleConnections();
      for (const client of wss.clients) client.close(1001, 'Server shutting down');
      const timer = setTimeout(() => server.closeAllConnections(), config.server.shutdownTimeoutMs);
      await closed;
      clearTimeout(timer);
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const m of [...appModules].reverse()) await m.stop?.(services);
      await bus.close();
      await client?.$disconnect();
      log.info('confab stopped');
    })();
    return stopping;
  }

  return { services, yoga, start, stop };
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
