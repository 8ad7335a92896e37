// The context factory, apart from context.ts: it resolves the viewer (auth/viewer.ts), while auth/ and every
// module import context.ts for its types.
import { randomUUID } from 'node:crypto';
import { ACTING_USER_HEADER, resolveViewer } from './auth/viewer.ts';
import { requestIdOf, viewerLogFields, withFreshLoaders, type AppServices, type Context } from './context.ts';
import type { Viewer } from './auth/identity.ts';
import { NOSTR_TOKEN_HEADER, verifyNostrToken, type NostrProof } from './auth/nostr-token.ts';

/** The initial values HTTP (yoga) and WS (graphql-ws) hand to createContext. */
export interface ContextInit {
  request?: Request;
  /** Resolved in graphql-ws `onConnect`, once per connection. */
  viewer?: Viewer;
  clientIp?: string;
  /** The origin the client reached the server at (src/http/origin.ts). */
  origin?: string;
  /**
   * The operation runs over graphql-ws. A subscription executes once per event on one context, so
   * its loaders must not cache across events (a message's reactions loaded for one event would be
   * served, stale, to the next); they still batch within an event.
   */
  live?: boolean;
  /** The Nostr proof graphql-ws checked at connect (the `nostrToken` connection param); HTTP reads `x-nostr-token`. */
  nostr?: NostrProof;
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
  const nostrToken = headers?.get(NOSTR_TOKEN_HEADER);
  const nostr = init.nostr ?? (nostrToken ? await verifyNostrToken(app.config, nostrToken, app.clock()) : undefined);
  return withFreshLoaders({ app, viewer, requestId, clientIp, origin: init.origin, nostr, log: app.log.child({ requestId, ...viewerLogFields(viewer) }) }, !init.live);
}
