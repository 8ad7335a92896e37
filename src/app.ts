import { useGraphQLMiddleware } from '@envelop/graphql-middleware';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { createYoga, useErrorHandler, type Plugin } from 'graphql-yoga';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { buildPermissions, liveSharedAllowlist, nodeVisibility, openFields } from './auth/permissions.ts';
import { useActingGate } from './auth/acting.ts';
import { isAuthenticated } from './auth/rules.ts';
import { ACTING_USER_HEADER, resolveViewer, type Viewer } from './auth/viewer.ts';
import type { Config } from './config.ts';
import { createContext, requestIdOf, type AppServices, type Context } from './context.ts';
import { openDatabase, type Db } from './db.ts';
import { applyMigrations } from './db/migrate.ts';
import { healthRoutes } from './health.ts';
import { clientAddress } from './http/client-address.ts';
import { useSecurityHeaders } from './http/headers.ts';
import { csrfError, queryLimitError, requestLimitPlugins, serverTimeouts } from './http/limits.ts';
import { useRequestRateLimit } from './http/rate.ts';
import { loadTrustedDocuments, trustedSocketQuery, useTrustedDocuments } from './http/trusted.ts';
import { createMetrics } from './metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import type { Route, SocketInfo } from './app-module.ts';
import { actingFields, appModules, credentialResolvers, domainPermissions, renderLocalGraphiQL, schema as fullSchema } from './modules/index.ts';

import { accessEpoch, accessIndex } from './live/access.ts';
import { createAppPubSub, type PubSubHandle } from './live/bus.ts';
import { createSocketGuard } from './live/guard.ts';
import { useLiveHub } from './live/hub.ts';
import { useServer } from './live/socket.ts';
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

const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

/** Client-caused errors keep their message and code; anything else is masked (details only outside production). */
function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    const code = error.extensions?.code as string | undefined;
    if (code && !REQUEST_ERROR_CODES.has(code)) return error;
    const limited = queryLimitError(error) ?? csrfError(error);
    if (limited) return limited;
    // Parse, validation and query-limit failures join the documented set as BAD_USER_INPUT; the
    // specific kind stays in `reason`.
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}), ...(isDev ? {} : { originalError: undefined }) },
      // (yoga puts the JSON parser's message in `originalError`; production answers leave it out)
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

/** An error as a socket sends it: without yoga's HTTP-only `http` extension. */
function socketError(error: GraphQLError): GraphQLError {
  if (!error.extensions?.http) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions });
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
    maskedErrors: { maskError, isDev },
    context: (initial) =>
      createContext(services, {
        request: initial.request as Request | undefined,
        viewer: initial.viewer as Viewer | undefined,
        clientIp: (initial.clientIp as string | undefined) ?? clientAddress(config, initial.request as Request | undefined, initial.req as IncomingMessage | undefined),
        live: !!initial.socket,
      }),
    plugins: [
      useSecurityHeaders(config),
      ...requestLimitPlugins(config, '/graphql'),
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
      useLiveHub({
        shared: config.server.liveSharedExecution,
        sharing: (s) => ({
          open: openFields(domainPermissions),
          // A root rule that depends on the viewer's kind alone evaluates alike in a group (the kind is in its key).
          openRoot: openFields(domainPermissions, [isAuthenticated]),
          shared: listedFields(s, liveSharedAllowlist(domainPermissions)),
        }),
        write: (socket, id, result) => ws.writeNext(socket, id, result),
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
  const endSubscription = (subs: Map<string, string> | undefined, id: string) => {
    const field = subs?.get(id);
    if (field === undefined) return;
    subs!.delete(id);
    metrics.subscriptionEnded(field);
  };
  const socketOperations = new Map<WebSocket, number>();
  const closeIfIdle = (socket: WebSocket) => {
    if (!socketOperations.has(socket) && socket.readyState === WebSocket.OPEN) socket.close(1001, 'Server shutting down');
  };
  // Listening for access changes from the start: a revocation published right after a socket opens is heard.
  accessIndex(bus.pubsub);
  const guard = createSocketGuard(
    services,
    { perAddress: config.server.wsMaxSocketsPerAddress, perClient: config.server.wsMaxSocketsPerClient, perSocket: config.server.wsMaxSubscriptionsPerSocket },
    metrics.socketRefused,
  );
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: config.server.maxBodyBytes,
    // The per-address cap, before the handshake: a refused upgrade costs no WebSocket.
    verifyClient: (info, done) =>
      guard.admitAddress(clientAddress(config, undefined, info.req), info.req.socket) ? done(true) : done(false, 429, 'Too many connections from this address'),
  });
  const ws = useServer<
    Record<string, unknown>,
    { viewer?: Viewer; conn?: SocketInfo; subs?: Map<string, string>; clientIp?: string; ops?: Set<string>; release?: () => void }
  >(
    {
      // Queries and mutations under way are counted per socket: a draining server answers them before
      // it closes that socket (see stop()).
      execute: (args: any) => {
        const socket: WebSocket = args.rootValue.socket;
        // A socket closing for shutdown takes no new work: its answer could no longer be delivered.
        if (socket.readyState !== WebSocket.OPEN) return { errors: [new GraphQLError('The server is shutting down')] };
        socketOperations.set(socket, (socketOperations.get(socket) ?? 0) + 1);
        const run = Promise.resolve(args.rootValue.execute(args));
        void run
          .catch(() => {})
          .finally(() => {
            const left = socketOperations.get(socket)! - 1;
            if (left) socketOperations.set(socket, left);
            else socketOperations.delete(socket);
            // After graphql-ws has sent the result and `complete`.
            if (state.draining) setImmediate(() => closeIfIdle(socket));
          });
        return run;
      },
      subscribe: (args: any) => args.rootValue.subscribe(args),
      // Credentials come once, in connectionParams; bad ones close the socket with 4403.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        // The upgrade request is only read for the client's address: kept, it would hold its headers and
        // parser state for the life of the socket.
        ctx.extra.clientIp = clientAddress(config, undefined, ctx.extra.request);
        ctx.extra.request = undefined;
        try {
          const epoch = accessEpoch(bus.pubsub);
          const viewer = await resolveViewer(services, {
            authorization: typeof params.authorization === 'string' ? params.authorization : (params.Authorization as string | undefined),
            apiKey: typeof params.apiKey === 'string' ? params.apiKey : undefined,
            actingUser: actingParam(params),
          });
          // Checked here, then before each operation (src/live/guard.ts): the credentials themselves are not kept
          // for the socket's life (graphql-ws keeps the params).
          for (const key of CREDENTIAL_PARAMS) delete (params as Record<string, unknown>)[key];
          const release = guard.open(ctx.extra.socket, viewer, epoch);
          if (!release) return false;
          ctx.extra.release = release;
          ctx.extra.viewer = viewer;
          ctx.extra.ops = new Set();
          const conn: SocketInfo = { id: randomUUID(), params };
          for (const m of appModules) await m.onSocketOpen?.(viewer, services, conn);
          ctx.extra.conn = conn;
          ctx.extra.subs = new Map();
          metrics.socketOpened();
          return true;
        } catch {
          return false;
        }
      },
      onClose: async (ctx) => {
        const { viewer, conn, subs } = ctx.extra;
        ctx.extra.release?.();
        ctx.extra.release = undefined;
        if (subs) {
          metrics.socketClosed();
          for (const field of subs.values()) metrics.subscriptionEnded(field);
          subs.clear();
        }
        if (!viewer || !conn) return;
        for (const m of appModules) await m.onSocketClose?.(viewer, services, conn);
      },
      // Subscriptions are counted from graphql-ws's own hooks: started when the stream is returned, ended
      // by its completion, its error or the socket's close, whichever comes first.
      onOperation: (ctx, id, _payload, args, result) => {
        if (!ctx.extra.subs || !result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) return;
        const field = rootField(args.schema, args.document, args.operationName);
        ctx.extra.subs.set(id, field);
        metrics.subscriptionStarted(field);
      },
      onNext: (ctx, id) => {
        const field = ctx.extra.subs?.get(id);
        if (field) metrics.delivered(field);
      },
      onComplete: (ctx, id) => {
        ctx.extra.ops?.delete(id);
        endSubscription(ctx.extra.subs, id);
      },
      onError: (ctx, id) => {
        ctx.extra.ops?.delete(id);
        endSubscription(ctx.extra.subs, id);
      },
      onSubscribe: async (ctx, id, received) => {
        if (ctx.extra.viewer && ctx.extra.viewer.kind !== 'anonymous' && !(await guard.stillValid(ctx.extra.socket, ctx.extra.viewer))) {
          return [new GraphQLError('The credentials of this connection are no longer valid; reconnect with fresh ones', { extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIALS_REVOKED' } })];
        }
        // Checked and counted in one synchronous step, so that subscribes racing on one socket cannot pass the
        // cap together; the id is let go by onComplete or onError, whichever graphql-ws calls first.
        const overCap = ctx.extra.ops && guard.admitOperation(ctx.extra.ops, id);
        if (overCap) return [overCap];
        let payload = received;
        if (trusted) {
          const query = trustedSocketQuery(trusted, payload as { query?: unknown; extensions?: unknown; documentId?: unknown });
          if (query instanceof GraphQLError) return [socketError(query)];
          payload = { ...payload, query };
        }
        let viewer = ctx.extra.viewer;
        // GraphiQL sends its headers editor's values with each operation, not in connectionParams: on a
        // connection without credentials, an operation's own `extensions.headers` authenticate it alone.
        const opHeaders = (payload.extensions?.headers ?? {}) as Record<string, unknown>;
        const opAuth = opHeaders.authorization ?? opHeaders.Authorization;
        const opKey = opHeaders['x-api-key'] ?? opHeaders['X-API-Key'];
        if (viewer?.kind === 'anonymous' && (typeof opAuth === 'string' || typeof opKey === 'string')) {
          try {
            viewer = await resolveViewer(services, {
              authorization: typeof opAuth === 'string' ? opAuth : undefined,
              apiKey: typeof opKey === 'string' ? opKey : undefined,
              actingUser: actingParam(opHeaders),
            });
          } catch {
            return [new GraphQLError('Invalid credentials in the operation headers', { extensions: { code: 'UNAUTHENTICATED' } })];
          }
        }
        const { schema: s, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          socket: ctx.extra.socket,
          params: payload,
          viewer,
          clientIp: ctx.extra.clientIp ?? clientAddress(config, undefined, ctx.extra.request),
        });
        // Parse and validation failures (graphql-armor throws its limits from both) answer this
        // operation with BAD_USER_INPUT; thrown, they would close the whole socket with 4500.
        let document;
        let errors: readonly GraphQLError[];
        try {
          document = parse(payload.query);
          errors = validate(s, document);
        } catch (err) {
          errors = [err instanceof GraphQLError ? err : new GraphQLError(String((err as Error)?.message ?? err))];
        }
        if (errors.length) return errors.map((e) => socketError(maskError(e, e.message, isDev) as GraphQLError));
        return {
          schema: s,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          // The socket and the operation's id: where the hub (src/live/hub.ts) writes a subscription's events.
          rootValue: { execute, subscribe, socket: ctx.extra.socket, id },
        };
      },
    },
    wss,
    { maxBufferedBytes: config.server.wsMaxBufferedBytes, onProtocolError: (err) => log.info({ err: err.message }, 'WebSocket frame refused') },
  );

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
      for (const socket of wss.clients) closeIfIdle(socket);
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

/** The connectionParams that carry credentials, dropped once the connection is authenticated. */
const CREDENTIAL_PARAMS = ['authorization', 'Authorization', 'apiKey'];

/** The X-Acting-User equivalent in connectionParams (or GraphiQL's per-operation headers). */
function actingParam(params: Record<string, unknown>): string | undefined {
  const value = params.actingUser ?? params[ACTING_USER_HEADER] ?? params['X-Acting-User'];
  return value === undefined || value === null ? undefined : String(value);
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
