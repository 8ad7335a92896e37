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
  return new GuardedStream(source[Symbol.asyncIterator](), opts);
}

/**
 * guardStream's iterator. On the hot path (one `next()` per event per subscriber) it costs one promise and
 * the source's: the promise's executor and the source's handlers are made once per stream, not per event.
 */
class GuardedStream<T> implements AsyncIterableIterator<T> {
  private lost?: GraphQLError;
  private finished = false;
  /** The pending `next()`'s settlers: only one is pending at a time (graphql's mapping awaits each). */
  private resolve?: (r: IteratorResult<T>) => void;
  private reject?: (e: unknown) => void;
  private checking?: Promise<void>;
  private readonly stopWatching: () => void;
  private readonly stopTimer: () => void;

  constructor(
    private readonly it: AsyncIterator<T>,
    private readonly opts: GuardOptions,
  ) {
    this.stopWatching = watchAccess(opts.pubsub, opts.subjects, { changed: this.recheck, revoked: () => this.lose(accessLost(undefined, 'CREDENTIALS_REVOKED')) });
    this.stopTimer = rechecks.add(this.recheck);
    if (accessEpoch(opts.pubsub) !== opts.epoch) this.recheck();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.lost) {
      const error = this.lost;
      this.lost = undefined;
      return Promise.reject(error);
    }
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    return new Promise(this.pull);
  }

  async return(): Promise<IteratorResult<T>> {
    this.cleanup();
    this.lost = undefined;
    const resolve = this.resolve;
    this.resolve = this.reject = undefined;
    resolve?.({ done: true, value: undefined });
    await this.it.return?.();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    await this.return();
    throw error;
  }

  private readonly pull = (resolve: (r: IteratorResult<T>) => void, reject: (e: unknown) => void) => {
    this.resolve = resolve;
    this.reject = reject;
    this.it.next().then(this.onResult, this.onError);
  };

  // A result with no pending settler came after a loss had already answered the `next()` it was for: dropped.
  private readonly onResult = (r: IteratorResult<T>) => {
    const resolve = this.resolve;
    if (!resolve) return;
    this.resolve = this.reject = undefined;
    if (r.done) this.cleanup();
    resolve(r);
  };

  private readonly onError = (err: unknown) => {
    const reject = this.reject;
    if (!reject) return;
    this.resolve = this.reject = undefined;
    this.cleanup();
    reject(err);
  };

  private readonly recheck = () => {
    this.checking ??= this.opts
      .recheck()
      .then((result) => (result === true ? undefined : this.lose(accessLost(result))), () => undefined)
      .finally(() => (this.checking = undefined));
  };

  /** Ends the stream with `error`: the pending `next()` rejects with it at once, else the next one does. */
  private lose(error: GraphQLError) {
    if (this.finished || this.lost) return;
    this.cleanup();
    void Promise.resolve(this.it.return?.()).catch(() => undefined);
    const reject = this.reject;
    this.resolve = this.reject = undefined;
    if (reject) reject(error);
    else this.lost = error;
  }

  private cleanup() {
    if (this.finished) return;
    this.finished = true;
    this.stopWatching();
    this.stopTimer();
  }
}
