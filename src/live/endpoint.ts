/**
 * The graphql-ws endpoint on the HTTP server's port: connecting (credentials once, in connectionParams; the
 * socket caps and revocation watch of src/live/guard.ts), every operation's checks before it runs (credentials
 * again, the per-socket cap, trusted documents, GraphiQL's per-operation headers, parse and validate through
 * yoga's envelop), subscription metrics, and draining on shutdown. Subscriptions' events are written by the hub
 * (src/live/hub.ts) with the `writeNext` this returns; queries and mutations go through graphql-ws as usual.
 */
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import type { AppModule, SocketInfo } from '../app-module.ts';
import type { Viewer } from '../auth/identity.ts';
import { NOSTR_TOKEN_PARAM, verifyNostrToken, type NostrProof } from '../auth/nostr-token.ts';
import { ACTING_USER_HEADER, resolveViewer } from '../auth/viewer.ts';
import type { AppServices, Context } from '../context.ts';
import { clientAddress } from '../http/client-address.ts';
import { requestOrigin } from '../http/origin.ts';
import { maskError, socketError } from '../http/mask.ts';
import { trustedSocketQuery, type TrustedDocuments } from '../http/trusted.ts';
import type { Metrics } from '../metrics.ts';
import { accessEpoch } from './access.ts';
import { createSocketGuard } from './guard.ts';
import { takeHubStream } from './hub.ts';
import { useServer } from './socket.ts';

export interface EndpointOptions {
  server: Server;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  services: AppServices;
  metrics: Pick<Metrics, 'socketOpened' | 'socketClosed' | 'subscriptionStarted' | 'subscriptionEnded' | 'socketRefused'>;
  /** True once the server drains: sockets close as soon as their queries and mutations are answered. */
  isDraining(): boolean;
  trusted?: TrustedDocuments;
  /** Told when an authenticated socket opens and closes (presence). */
  modules: readonly Pick<AppModule, 'onSocketOpen' | 'onSocketClose'>[];
  /** The label of an operation in metrics: its first root field. */
  fieldOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): string;
}

export function serveSockets({ server, yoga, services, metrics, isDraining, trusted, modules, fieldOf }: EndpointOptions) {
  const { config } = services;
  const isDev = config.env !== 'production';
  /** Lets operation `id` go from the socket's count; a subscription among them is counted as ended. */
  const endOperation = (ops: Map<string, string | undefined> | undefined, id: string) => {
    const field = ops?.get(id);
    ops?.delete(id);
    if (field !== undefined) metrics.subscriptionEnded(field);
  };
  const socketOperations = new Map<WebSocket, number>();
  const closeIfIdle = (socket: WebSocket) => {
    if (!socketOperations.has(socket) && socket.readyState === WebSocket.OPEN) socket.close(1001, 'Server shutting down');
  };
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
    { viewer?: Viewer; nostr?: NostrProof; conn?: SocketInfo; clientIp?: string; origin?: string; ops?: Map<string, string | undefined>; release?: () => void }
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
            if (isDraining()) setImmediate(() => closeIfIdle(socket));
          });
        return run;
      },
      subscribe: async (args: any) => {
        const root = args.rootValue;
        const result = await root.subscribe(args);
        // A subscription on the hub (src/live/hub.ts): graphql-ws holds the hub's own stream, not envelop's
        // wrappers around it (their per-result hooks never run: the hub writes, masks and logs results itself),
        // and the operation's enveloped functions are let go: an idle subscription keeps only what it uses.
        const stream = takeHubStream(root);
        root.execute = root.subscribe = undefined;
        return stream ?? result;
      },
      // Credentials come once, in connectionParams; bad ones close the socket with 4403.
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        // The upgrade request is only read for the client's address: kept, it would hold its headers and
        // parser state for the life of the socket.
        ctx.extra.clientIp = clientAddress(config, undefined, ctx.extra.request);
        ctx.extra.origin = requestOrigin(config, undefined, ctx.extra.request);
        ctx.extra.request = undefined;
        try {
          const epoch = accessEpoch(services.pubsub);
          const viewer = await resolveViewer(services, {
            authorization: typeof params.authorization === 'string' ? params.authorization : (params.Authorization as string | undefined),
            apiKey: typeof params.apiKey === 'string' ? params.apiKey : undefined,
            actingUser: actingParam(params),
          });
          const nostrToken = params[NOSTR_TOKEN_PARAM];
          if (nostrToken !== undefined && nostrToken !== null) ctx.extra.nostr = await verifyNostrToken(config, String(nostrToken), services.clock());
          // Checked here, then before each operation (src/live/guard.ts): the credentials themselves are not kept
          // for the socket's life (graphql-ws keeps the params).
          for (const key of CREDENTIAL_PARAMS) delete (params as Record<string, unknown>)[key];
          const release = guard.open(ctx.extra.socket, viewer, epoch);
          if (!release) return false;
          ctx.extra.release = release;
          ctx.extra.viewer = viewer;
          const conn: SocketInfo = { id: randomUUID(), params };
          for (const m of modules) await m.onSocketOpen?.(viewer, services, conn);
          ctx.extra.conn = conn;
          // The socket's operations under way (the per-socket cap), each with its metrics label once it is a subscription.
          ctx.extra.ops = new Map();
          metrics.socketOpened();
          return true;
        } catch {
          return false;
        }
      },
      onClose: async (ctx) => {
        const { viewer, conn, ops } = ctx.extra;
        ctx.extra.release?.();
        ctx.extra.release = undefined;
        if (ops) {
          metrics.socketClosed();
          for (const field of ops.values()) if (field !== undefined) metrics.subscriptionEnded(field);
          ops.clear();
        }
        if (!viewer || !conn) return;
        for (const m of modules) await m.onSocketClose?.(viewer, services, conn);
      },
      // Subscriptions are counted from graphql-ws's own hooks: started when the stream is returned, ended
      // by its completion, its error or the socket's close, whichever comes first.
      onOperation: (ctx, id, _payload, args, result) => {
        if (!ctx.extra.ops?.has(id) || !result || typeof result !== 'object' || !(Symbol.asyncIterator in result)) return;
        const field = fieldOf(args.schema, args.document, args.operationName);
        ctx.extra.ops.set(id, field);
        metrics.subscriptionStarted(field);
      },
      onComplete: (ctx, id) => endOperation(ctx.extra.ops, id),
      onError: (ctx, id) => endOperation(ctx.extra.ops, id),
      onSubscribe: async (ctx, id, received) => {
        if (ctx.extra.viewer && ctx.extra.viewer.kind !== 'anonymous' && !(await guard.stillValid(ctx.extra.socket, ctx.extra.viewer))) {
          return [new GraphQLError('The credentials of this connection are no longer valid; reconnect with fresh ones', { extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIALS_REVOKED' } })];
        }
        // Checked and counted in one synchronous step, so that subscribes racing on one socket cannot pass the
        // cap together; the id is let go by onComplete or onError, whichever graphql-ws calls first.
        const overCap = ctx.extra.ops && guard.admitOperation(ctx.extra.ops, id);
        if (overCap) return [overCap];
        // A Nostr token is checked at connect; once it has expired, the socket's operations are refused until it reconnects with a fresh one.
        if (ctx.extra.nostr && services.clock().getTime() >= ctx.extra.nostr.expiresAt) {
          return [new GraphQLError('The Nostr token of this connection has expired; reconnect with a fresh one', { extensions: { code: 'UNAUTHENTICATED', reason: 'NOSTR_TOKEN_EXPIRED' } })];
        }
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
          nostr: ctx.extra.nostr,
          clientIp: ctx.extra.clientIp ?? clientAddress(config, undefined, ctx.extra.request),
          origin: ctx.extra.origin,
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
    { maxBufferedBytes: config.server.wsMaxBufferedBytes, onProtocolError: (err) => services.log.info({ err: err.message }, 'WebSocket frame refused') },
  );


  return {
    wss,
    writeNext: ws.writeNext,
    /** Closes every socket with 1001 now, or as soon as the queries and mutations running on it are answered. */
    drain() {
      for (const socket of wss.clients) closeIfIdle(socket);
    },
    dispose: ws.dispose,
  };
}

/** The connectionParams that carry credentials, dropped once the connection is authenticated. */
const CREDENTIAL_PARAMS = ['authorization', 'Authorization', 'apiKey', NOSTR_TOKEN_PARAM];

/** The X-Acting-User equivalent in connectionParams (or GraphiQL's per-operation headers). */
function actingParam(params: Record<string, unknown>): string | undefined {
  const value = params.actingUser ?? params[ACTING_USER_HEADER] ?? params['X-Acting-User'];
  return value === undefined || value === null ? undefined : String(value);
}
