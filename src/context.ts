import DataLoader from 'dataloader';
import { randomUUID } from 'node:crypto';
import type { NodeVisibility } from './auth/permissions.ts';
import { ACTING_USER_HEADER, resolveViewer, type CredentialResolver, type Viewer } from './auth/viewer.ts';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { AppPubSub } from './live/bus.ts';
import type { RateLimiter } from './ratelimit.ts';

export type { Viewer };

/** What lives as long as the app: shared by every request and connection. */
export interface AppServices {
  config: Config;
  pubsub: AppPubSub;
  log: Logger;
  limiter: RateLimiter;
  /** The current time for rules that age (trust decay); tests pass a clock they can move. */
  clock: () => Date;
  /** Shared state across instances (presence, typing), when REDIS_URL is set. */
  redis?: Redis;
  /** What the modules registered (src/modules/index.ts): token kinds they issue, and who sees which node. */
  auth: { credentials: CredentialResolver[]; canSeeNode: NodeVisibility };
}

export interface Context {
  app: AppServices;
  viewer: Viewer;
  requestId: string;
  /** Child logger carrying the request id and the viewer's ids. */
  log: Logger;
  /** Address of the client, for rate limits. */
  clientIp: string;
  /**
   * A DataLoader for this operation only, created on first use under `name`. Loaders are fresh per
   * operation, so one request never sees another's cache.
   */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V>;
}

/** The initial values HTTP (yoga) and WS (graphql-ws) hand to createContext. */
export interface ContextInit {
  request?: Request;
  /** Resolved in graphql-ws `onConnect`, once per connection. */
  viewer?: Viewer;
  clientIp?: string;
  /**
   * The operation runs over graphql-ws. A subscription executes once per event on one context, so
   * its loaders must not cache across events (a message's reactions loaded for one event would be
   * served, stale, to the next); they still batch within an event.
   */
  live?: boolean;
}

/** The one context factory, used by HTTP and WebSocket operations alike. */
export async function createContext(app: AppServices, init: ContextInit): Promise<Context> {
  const headers = init.request?.headers;
  const requestId = init.request ? requestIdOf(init.request) : randomUUID();
  const viewer =
    init.viewer ??
    (await resolveViewer(app, {
      authorization: headers?.get('authorization') ?? undefined,
      apiKey: headers?.get('x-api-key') ?? undefined,
      actingUser: headers?.get(ACTING_USER_HEADER) ?? undefined,
    }, { keepUserRow: true }));
  const clientIp = init.clientIp ?? 'unknown';
  return withFreshLoaders({ app, viewer, requestId, clientIp, log: app.log.child({ requestId, ...viewerLogFields(viewer) }) }, !init.live);
}

/**
 * The same context with empty loader caches. A subscription's context lives as long as the stream, so
 * a stream that re-checks access later (a share removed) must not read the answers cached at its start.
 */
export function withFreshLoaders(ctx: Omit<Context, 'loader'>, cache = true): Context {
  // Made on first use: a subscription's context that never loads anything holds no map.
  let loaders: Map<string, DataLoader<any, any>> | undefined;
  return {
    ...ctx,
    loader(name, batch) {
      loaders ??= new Map();
      let l = loaders.get(name);
      if (!l) loaders.set(name, (l = new DataLoader(batch, { cache })));
      return l;
    },
  };
}

export function viewerLogFields(viewer: Viewer): Record<string, string> {
  switch (viewer.kind) {
    case 'user':
      // An ACT_AS key acting as a member: both identities.
      return viewer.via ? { userId: viewer.userId, actingUserId: viewer.userId, apiKeyId: viewer.via.apiKeyId, orgId: viewer.via.orgId } : { userId: viewer.userId };
    case 'apiKey':
      return { apiKeyId: viewer.apiKeyId, orgId: viewer.orgId };
    case 'session':
      return { sessionId: viewer.sessionId };
    default:
      return {};
  }
}

const requestIds = new WeakMap<Request, string>();

/** The request's id: the caller's `x-request-id` when sane, else a new UUID; stable per request. */
export function requestIdOf(request: Request): string {
  let id = requestIds.get(request);
  if (!id) {
    const given = request.headers.get('x-request-id');
    id = given && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    requestIds.set(request, id);
  }
  return id;
}
