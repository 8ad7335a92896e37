/**
 * Access changes, and what every long-lived thing that depends on access does about them.
 *
 * A service that changes someone's access (a member removed, a share taken back, a key revoked, logout
 * everywhere) announces it on ONE topic, `access:changed`, naming subjects: `user:<id>`, `key:<id>`,
 * `session:<id>` (whose access changed) or a resource (`project:<id>`) whose audience changed. Each process
 * listens to that topic once and keeps an index of subject → watchers, so an event costs a map lookup per
 * subject, not a listener per subscriber.
 *
 * Watchers are the sockets (their credentials: revoked → closed) and the feeds (src/live/feed.ts `guard`:
 * re-check on a change, end at once on a revocation, and re-check on a shared timer in case an event was lost).
 */
import { GraphQLError } from 'graphql';
import type { AppPubSub } from './bus.ts';

export interface AccessChange {
  /** `user:<id>`, `key:<id>`, `session:<id>`, or a resource such as `project:<id>`. */
  subjects: string[];
  /**
   * The credentials themselves are void (key revoked, logout everywhere): sockets holding them close and
   * their streams end without a re-check. Otherwise watchers re-check what they hold.
   */
  revoked?: boolean;
}

declare module './bus.ts' {
  interface TopicRegistry {
    'access:changed': [change: AccessChange];
  }
}

/** Called after the change has committed, like every publish. */
export function announceAccessChange(pubsub: AppPubSub, change: AccessChange): void {
  if (change.subjects.length) pubsub.publish('access:changed', change);
}

export interface AccessWatcher {
  /** Something about the subject's access changed: look again. */
  changed(): void;
  /** The subject's credentials are void. */
  revoked(): void;
}

/** Per subject, its watchers, and for each whether the subject is its credential (revocable) or only its access. */
type Index = Map<string, Map<AccessWatcher, boolean>>;
const indexes = new WeakMap<AppPubSub, Index>();
/** Access events this process has heard, per pub/sub: a stream compares it before and after it starts. */
const heard = new WeakMap<AppPubSub, number>();

/**
 * How many access events this process has heard so far. A subscription reads it before its access check;
 * if it changed by the time its guard is watching, an event may have fallen in between, so it re-checks.
 */
export function accessEpoch(pubsub: AppPubSub): number {
  accessIndex(pubsub);
  return heard.get(pubsub) ?? 0;
}

/**
 * This process's index of watchers by subject, listening from the first call (buildApp makes it at start,
 * so that an event published right after a socket opens is already heard).
 */
export function accessIndex(pubsub: AppPubSub): Index {
  const index = indexes.get(pubsub);
  if (index) return index;
  const watchers: Index = new Map();
  indexes.set(pubsub, watchers);
  pubsub.listen('access:changed', (change) => {
    heard.set(pubsub, (heard.get(pubsub) ?? 0) + 1);
    // A watcher hears one call per event: revoked if a revoked subject is its credential, else changed.
    const hit = new Map<AccessWatcher, boolean>();
    for (const subject of change.subjects) {
      for (const [w, credential] of watchers.get(subject) ?? []) hit.set(w, hit.get(w) || (!!change.revoked && credential));
    }
    for (const [w, revoked] of hit) {
      try {
        if (revoked) w.revoked();
        else w.changed();
      } catch {
        // one watcher's failure is its own
      }
    }
  });
  return watchers;
}

export interface WatchedSubjects {
  /** Subjects whose revocation voids the watcher's credentials. */
  credentials: readonly string[];
  /** Subjects whose changes (revocations included) only make it look again. */
  access?: readonly string[];
}

/** Registers `watcher` under each subject; returns the function that removes it. */
export function watchAccess(pubsub: AppPubSub, subjects: WatchedSubjects, watcher: AccessWatcher): () => void {
  const index = accessIndex(pubsub);
  // A subject in both lists counts as a credential (set last). The lists themselves are kept, not copied.
  const { credentials, access = [] } = subjects;
  for (const list of [access, credentials]) {
    for (const subject of list) {
      let map = index.get(subject);
      if (!map) index.set(subject, (map = new Map()));
      map.set(watcher, list === credentials);
    }
  }
  return () => {
    for (const list of [access, credentials]) {
      for (const subject of list) {
        const map = index.get(subject);
        if (!map?.delete(watcher)) continue;
        if (!map.size) index.delete(subject);
      }
    }
  };
}

/** How a stream whose subscriber lost access ends: FORBIDDEN, whatever the re-check said (NOT_FOUND and all). */
export function accessLost(cause?: GraphQLError, reason = 'ACCESS_LOST'): GraphQLError {
  const code = cause?.extensions?.code;
  return new GraphQLError(`Access to this subscription was lost${cause && code !== 'FORBIDDEN' ? ` (${cause.message})` : ''}`, {
    extensions: { code: 'FORBIDDEN', reason },
  });
}

