import DataLoader from 'dataloader';
import { randomUUID } from 'node:crypto';
import type { Viewer } from './auth/identity.ts';
import type { NostrProof } from './auth/nostr-token.ts';
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
  /** What the modules define (their `credentials` and `permissions`): token kinds they issue, and who sees which node. */
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
  /** The origin the client reached the server at (`https://chat.example.com`), for absolute URLs; unknown: undefined. */
  origin?: string;
  /**
   * The Nostr key the caller proved with a valid `x-nostr-token` (or the `nostrToken` connection param); not a login:
   * the viewer stays who the other credentials say. A request carrying a bad or expired token is refused whole.
   */
  nostr?: NostrProof;
  /**
   * A DataLoader for this operation only, created on first use under `name`. Loaders are fresh per
   * operation, so one request never sees another's cache.
   */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<(V | Error)[]>): DataLoader<K, V>;
}

/**
 * Turns one kind of opaque token into a viewer. Domains that issue tokens (API keys, prepaid session
 * tokens) list one in their module's `credentials` (src/app-module.ts), so auth/ knows none of them. A token that does
 * not check out throws UNAUTHENTICATED (or GONE); it never falls back to anonymous.
 */
export interface CredentialResolver {
  /** Tokens starting with this (`cfk_`) are this resolver's, when sent as a bearer token. */
  prefix: string;
  /** This resolver also takes whatever comes in `X-API-Key` / the `apiKey` connection param. */
  apiKeyHeader?: boolean;
  resolve(app: AppServices, token: string): Promise<Viewer>;
  /**
   * Viewers this resolver makes may be kept for a while (src/auth/credential-cache.ts): its credentials do not
   * expire by themselves, and every revocation is announced (`access:changed` with `revoked`) under the
   * viewer's credentialSubjects.
   */
  cacheable?: boolean;
  /**
   * Whether a viewer this resolver made earlier still holds (the key not revoked, the session not gone):
   * long-lived connections ask before each operation. `undefined` for viewers that are not its own.
   */
  stillValid?(app: AppServices, viewer: Viewer): Promise<boolean | undefined>;
}

/** Answers node(id)/nodes(ids): may the viewer see this loaded object of this type? */
export type NodeVisibility = (ctx: Context, typename: string, node: unknown) => Promise<boolean>;

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
