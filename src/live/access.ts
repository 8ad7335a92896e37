/**
 * Access changes, and what every long-lived thing that depends on access does about them.
 *
 * A service that changes someone's access (a member removed, a share taken back, a key revoked, logout
 * everywhere) announces it on ONE topic, `access:changed`, naming subjects: `user:<id>`, `key:<id>`,
 * `session:<id>` (whose access changed) or a resource (`project:<id>`) whose audience changed. Each process
 * listens to that topic once and keeps an index of subject → watchers, so an event costs a map lookup per
 * subject, not a listener per subscriber.
 *
 * Watchers are the sockets (their credentials: revoked → closed) and the subscription streams (guardStream:
 * re-check on a change, end at once on a revocation, and re-check on a shared timer in case an event was lost).
 */
import { GraphQLError } from 'graphql';
import { recheckWheel } from '../live.ts';
import { DIRECT, type AppPubSub, type DirectSource } from '../pubsub.ts';

export interface AccessChange {
  /** `user:<id>`, `key:<id>`, `session:<id>`, or a resource such as `project:<id>`. */
  subjects: string[];
  /**
   * The credentials themselves are void (key revoked, logout everywhere): sockets holding them close and
   * their streams end without a re-check. Otherwise watchers re-check what they hold.
   */
  revoked?: boolean;
}

declare module '../pubsub.ts' {
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
  const source = pubsub.subscribe('access:changed') as unknown as DirectSource<AccessChange>;
  source[DIRECT](
    (change) => {
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
    },
    () => undefined,
  );
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
  const all = new Map<string, boolean>();
  for (const subject of subjects.access ?? []) all.set(subject, false);
  for (const subject of subjects.credentials) all.set(subject, true);
  for (const [subject, credential] of all) {
    let map = index.get(subject);
    if (!map) index.set(subject, (map = new Map()));
    map.set(watcher, credential);
  }
  return () => {
    for (const subject of all.keys()) {
      const map = index.get(subject);
      if (!map?.delete(watcher)) continue;
      if (!map.size) index.delete(subject);
    }
  };
}

/** Streams re-check now and then in case an access event was lost on the way (Redis down): one timer for all. */
const rechecks = recheckWheel(60_000);

export interface GuardOptions {
  pubsub: AppPubSub;
  /** Whose changes concern this stream: the viewer's credentials, whose access it holds, and resources it watches. */
  subjects: WatchedSubjects;
  /** true while access holds; else the error the stream ends with. Runs with fresh loaders each time. */
  recheck(): Promise<true | GraphQLError>;
  /** accessEpoch() read before access was first checked: when events were heard since, it re-checks at once. */
  epoch: number;
}

/** How a stream whose subscriber lost access ends: FORBIDDEN, whatever the re-check said (NOT_FOUND and all). */
export function accessLost(cause?: GraphQLError, reason = 'ACCESS_LOST'): GraphQLError {
  const code = cause?.extensions?.code;
  return new GraphQLError(`Access to this subscription was lost${cause && code !== 'FORBIDDEN' ? ` (${cause.message})` : ''}`, {
    extensions: { code: 'FORBIDDEN', reason },
  });
}

/**
 * A subscription's event stream that ends with a FORBIDDEN error as soon as its subscriber loses access:
 * at once on a revocation of its subjects, after a failed re-check on a change of them, or after a failed
 * re-check on the shared timer. The error is raised by `next()` (graphql-ws sends it as the operation's
 * `error` message), even while the source is waiting for an event; the source is closed.
 */
export function guardStream<T>(source: AsyncIterable<T>, opts: GuardOptions): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  let lost: GraphQLError | undefined;
  let finished = false;
  let waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | undefined;
  let checking: Promise<void> | undefined;

  const cleanup = () => {
    if (finished) return;
    finished = true;
    stopWatching();
    stopTimer();
  };
  const lose = (error: GraphQLError) => {
    if (finished || lost) return;
    lost = error;
    cleanup();
    void Promise.resolve(it.return?.()).catch(() => undefined);
    const w = waiter;
    waiter = undefined;
    if (w) {
      lost = undefined;
      w.reject(error);
    }
  };
  const recheck = () => {
    checking ??= opts
      .recheck()
      .then((result) => (result === true ? undefined : lose(accessLost(result))), () => undefined)
      .finally(() => (checking = undefined));
  };
  const stopWatching = watchAccess(opts.pubsub, opts.subjects, { changed: recheck, revoked: () => lose(accessLost(undefined, 'CREDENTIALS_REVOKED')) });
  const stopTimer = rechecks.add(recheck);
  if (accessEpoch(opts.pubsub) !== opts.epoch) recheck();

  const guarded: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => guarded,
    next() {
      if (lost) {
        const error = lost;
        lost = undefined;
        return Promise.reject(error);
      }
      if (finished) return Promise.resolve({ done: true, value: undefined });
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        const mine = { resolve, reject };
        waiter = mine;
        it.next().then(
          (r) => {
            if (waiter !== mine) return;
            waiter = undefined;
            if (r.done) cleanup();
            resolve(r);
          },
          (err: unknown) => {
            if (waiter !== mine) return;
            waiter = undefined;
            cleanup();
            reject(err);
          },
        );
      });
    },
    async return() {
      cleanup();
      lost = undefined;
      const w = waiter;
      waiter = undefined;
      w?.resolve({ done: true, value: undefined });
      await it.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      await guarded.return!();
      throw error;
    },
  };
  return guarded;
}
