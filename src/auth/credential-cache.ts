/**
 * Credentials that checked out recently, so that a client's next request does not verify its token's signature
 * and read its user (or key) row again: the check was a third of a simple read's CPU and one statement of every
 * request.
 *
 * An entry is the viewer a credential resolved to, and it holds until the earliest of: the credential's own expiry,
 * `auth.credential_cache_sec` after the check (30 s; 0 turns the cache off), or a revocation of its subject. A
 * revocation (logout everywhere, an API key revoked: `access:changed` with `revoked`) drops the subject's entries at
 * once in the process that made it (from the publish itself, before the mutation answers) and in every other
 * instance as soon as the event reaches it over Redis; the time limit is the backstop for an event that never
 * arrives. A check that was under way while a revocation was heard is not kept (its answer may predate it).
 */
import { LRUCache } from 'lru-cache';
import type { AppServices } from '../context.ts';
import type { AppPubSub } from '../live/bus.ts';
import type { AccessChange } from '../live/access.ts';
import { credentialSubjects, type Viewer } from './identity.ts';

/** How many credentials one process keeps (a few hundred bytes each). */
const MAX_ENTRIES = 20_000;

interface Entry {
  viewer: Viewer;
  /** Epoch ms after which the entry is not used. */
  until: number;
  subjects: string[];
}

export interface CredentialCache {
  /** The viewer the credential resolved to, if it is still good. */
  get(credential: string): Viewer | undefined;
  /** A number to hand to `keep`: taken before the check, so a revocation heard during it is noticed. */
  epoch(): number;
  /** Keeps a check's answer, unless a revocation was heard since `epoch` (or caching is off). `expiresAt`: the credential's own expiry, if any. */
  keep(credential: string, viewer: Viewer, epoch: number, expiresAt?: number): void;
  /**
   * For a connection that keeps its viewer (a WebSocket re-checks before each operation): were this viewer's
   * credentials found valid within the time limit, with no revocation heard since?
   */
  recentlyChecked(viewer: Viewer): boolean;
  /** Notes that the viewer's credentials were found valid by a check that began at `epoch`. */
  checked(viewer: Viewer, epoch: number): void;
}

const caches = new WeakMap<AppPubSub, CredentialCache>();

/** The process's cache for this app (one per pub/sub, listening to revocations from its first use). */
export function credentialCache(app: Pick<AppServices, 'pubsub' | 'config'>): CredentialCache {
  let cache = caches.get(app.pubsub);
  if (!cache) caches.set(app.pubsub, (cache = createCache(app.pubsub, app.config.auth.credentialCacheSec * 1000)));
  return cache;
}

function createCache(pubsub: AppPubSub, ttlMs: number): CredentialCache {
  const entries = new LRUCache<string, Entry>({ max: MAX_ENTRIES });
  const checks = new WeakMap<Viewer, { until: number; epoch: number }>();
  let revocations = 0;
  const revoke = (change: AccessChange) => {
    if (!change.revoked) return;
    revocations++;
    const gone = new Set(change.subjects);
    // Revocations are rare; a scan of at most MAX_ENTRIES is cheaper than an index kept on every request.
    for (const [credential, entry] of entries.entries()) {
      if (entry.subjects.some((s) => gone.has(s))) entries.delete(credential);
    }
  };
  // From other instances (over Redis), and from this one once the event comes back.
  pubsub.listen('access:changed', revoke);
  // From this process's own publish, synchronously: over Redis the event above arrives a round trip later.
  pubsub.onLocalPublish((p) => {
    if (p.topic === 'access:changed') revoke(p.args[0] as AccessChange);
  });
  return {
    get(credential) {
      const entry = entries.get(credential);
      if (!entry) return undefined;
      if (Date.now() < entry.until) return entry.viewer;
      entries.delete(credential);
      return undefined;
    },
    epoch: () => revocations,
    keep(credential, viewer, epoch, expiresAt) {
      if (ttlMs <= 0 || epoch !== revocations) return;
      const until = Math.min(Date.now() + ttlMs, expiresAt ?? Infinity);
      entries.set(credential, { viewer, until, subjects: credentialSubjects(viewer) });
    },
    recentlyChecked(viewer) {
      const check = checks.get(viewer);
      return !!check && check.epoch === revocations && Date.now() < check.until;
    },
    checked(viewer, epoch) {
      if (ttlMs > 0 && epoch === revocations) checks.set(viewer, { until: Date.now() + ttlMs, epoch });
    },
  };
}
