import DataLoader from 'dataloader';
import { randomUUID } from 'node:crypto';
import { resolveViewer, type Viewer } from './auth/viewer.ts';
import type { Redis } from 'ioredis';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { AppPubSub } from './pubsub.ts';
import type { RateLimiter } from './ratelimit.ts';

export type { Viewer };

/** What lives as long as the app: shared by every request and connection. */
export interface AppServices {
  config: Config;
  pubsub: AppPubSub;
  log: Logger;
  limiter: RateLimiter;
  /** Shared state across instances (presence, typing), when REDIS_URL is set. */
  redis?: Redis;
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
    }));
  const clientIp = init.clientIp ?? 'unknown';
  const loaders = new Map<string, DataLoader<any, any>>();
  return {
    app,
    viewer,
    requestId,
    clientIp,
    log: app.log.child({ requestId, ...viewerLogFields(viewer) }),
    loader(name, batch) {
      let l = loaders.get(name);
      if (!l) loaders.set(name, (l = new DataLoader(batch)));
      return l;
    },
  };
}

export function viewerLogFields(viewer: Viewer): Record<string, string> {
  switch (viewer.kind) {
    case 'user':
      return { userId: viewer.userId };
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
