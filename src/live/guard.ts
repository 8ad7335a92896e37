/**
 * How long a WebSocket keeps its credentials, and how many sockets and operations a client may hold.
 *
 * A socket's viewer is resolved once, at connect; after that:
 * - it is closed with 4403 when its access token expires (clients reconnect with a fresh one and subscribe
 *   again; an operation that arrives at the expiry is not answered, the socket closes under it);
 * - it is closed with 4403 on every instance when its credentials are revoked (an API key revoked, logout
 *   everywhere): the revocation is an `access:changed` event (src/live/access.ts), heard once per process;
 * - before each operation its credentials are checked again in the database, so an operation that arrives
 *   after a revocation but before its event reached this instance is refused too (UNAUTHENTICATED).
 *
 * Caps, per instance, counted synchronously so that racing connections cannot pass them together: sockets
 * per client address (refused at the upgrade with HTTP 429), sockets per user or API key (closed with
 * 4429), and operations one socket holds at once (refused with RATE_LIMITED).
 */
import { GraphQLError } from 'graphql';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { credentialSubjects, type Viewer } from '../auth/identity.ts';
import { credentialExpiry, credentialsStillValid } from '../auth/viewer.ts';
import type { AppServices } from '../context.ts';
import { accessEpoch, watchAccess } from '../live/access.ts';

/** graphql-ws's Forbidden: the socket's credentials no longer hold. */
export const CREDENTIALS_CLOSE_CODE = 4403;
/** Like HTTP 429: this user or key already holds as many sockets as it may. */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 4429;

export interface SocketCaps {
  perAddress: number;
  perClient: number;
  perSocket: number;
}

/**
 * After a revocation, the socket's streams end with FORBIDDEN first (they hear the same event); the close
 * follows after this grace, so that those error frames go out before it.
 */
const CLOSE_GRACE_MS = 100;
/** setTimeout's largest delay; a later expiry is re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createSocketGuard(app: AppServices, caps: SocketCaps, onRefused: (reason: string) => void) {
  const byAddress = new Map<string, number>();
  const byClient = new Map<string, number>();
  const closing = new WeakSet<WebSocket>();
  const add = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n > 0) map.set(key, n);
    else map.delete(key);
  };

  /** Refuses further operations at once and closes the socket, after `graceMs`. */
  const shut = (socket: WebSocket, reason: string, why: string, graceMs: number) => {
    if (closing.has(socket)) return;
    closing.add(socket);
    onRefused(why);
    if (!graceMs) return socket.close(CREDENTIALS_CLOSE_CODE, reason);
    const timer = setTimeout(() => socket.close(CREDENTIALS_CLOSE_CODE, reason), graceMs);
    timer.unref();
  };
  const revoked = (socket: WebSocket) => shut(socket, 'Forbidden: credentials revoked', 'credentials_revoked', CLOSE_GRACE_MS);
  /**
   * Closed at once: nothing was taken away, the client only needs a fresh token, and its graphql-ws client
   * reconnects and subscribes again (an operation is not answered with an error it would have to handle).
   */
  const expired = (socket: WebSocket) => shut(socket, 'Forbidden: token expired', 'credentials_expired', 0);

  /**
   * Before each operation: do the socket's credentials still hold? When not, the socket is being closed
   * and the operation must be refused.
   */
  const stillValid = async (socket: WebSocket, viewer: Viewer): Promise<boolean> => {
    if (closing.has(socket)) return false;
    const expiresAt = credentialExpiry(viewer);
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      expired(socket);
      return false;
    }
    if (await credentialsStillValid(app, viewer)) return !closing.has(socket);
    revoked(socket);
    return false;
  };

  return {
    /**
     * At the upgrade, before the handshake: false when the address already holds its cap. The count is
     * held until the TCP connection closes, whether or not the upgrade completes.
     */
    admitAddress(address: string, tcp: Socket): boolean {
      if ((byAddress.get(address) ?? 0) >= caps.perAddress) {
        onRefused('address_cap');
        return false;
      }
      add(byAddress, address, 1);
      tcp.once('close', () => add(byAddress, address, -1));
      return true;
    },

    /**
     * Once the viewer is known: the per-client cap (over it, the socket is closed with 4429 and undefined
     * returned), then revocation and expiry are watched. `epoch` is accessEpoch() read before the credentials
     * were checked: if access events were heard since, one may have revoked them meanwhile, so they are
     * checked again. Returns what to call when the socket closes.
     */
    open(socket: WebSocket, viewer: Viewer, epoch: number): (() => void) | undefined {
      // An acting key's sockets count per member it acts as: one integration may serve many members.
      const client = viewer.kind === 'user' && viewer.via ? `key:${viewer.via.apiKeyId}:user:${viewer.userId}` : credentialSubjects(viewer)[0];
      if (client) {
        if ((byClient.get(client) ?? 0) >= caps.perClient) {
          onRefused('client_cap');
          socket.close(TOO_MANY_SOCKETS_CLOSE_CODE, 'Too many connections for this user or API key');
          return undefined;
        }
        add(byClient, client, 1);
      }
      const stopWatching = watchAccess(app.pubsub, { credentials: credentialSubjects(viewer) }, {
        changed: () => undefined,
        revoked: () => revoked(socket),
      });
      let timer: NodeJS.Timeout | undefined;
      const expiresAt = credentialExpiry(viewer);
      const arm = () => {
        if (expiresAt === undefined) return;
        const wait = expiresAt - Date.now();
        if (wait <= 0) return expired(socket);
        timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
        timer.unref();
      };
      arm();
      if (accessEpoch(app.pubsub) !== epoch) void stillValid(socket, viewer).catch(() => undefined);
      return () => {
        if (client) add(byClient, client, -1);
        stopWatching();
        clearTimeout(timer);
      };
    },

    /**
     * Counts operation `id` among the socket's `ops` (graphql-ws's onComplete/onError remove it), or returns
     * the RATE_LIMITED error when the socket already holds its cap. Synchronous, so racing subscribes on one
     * socket cannot pass together.
     */
    admitOperation(ops: Map<string, unknown>, id: string): GraphQLError | undefined {
      if (ops.has(id)) return undefined;
      if (ops.size >= caps.perSocket) {
        onRefused('subscription_cap');
        return new GraphQLError(`This connection already holds ${caps.perSocket} operations; end some or open another connection`, {
          extensions: { code: 'RATE_LIMITED', reason: 'SUBSCRIPTION_LIMIT' },
        });
      }
      ops.set(id, undefined);
      return undefined;
    },

    stillValid,

    /** Open sockets this instance counts per client (tests, metrics). */
    counts: () => ({ addresses: byAddress.size, clients: byClient.size }),
  };
}
