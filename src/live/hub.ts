/**
 * The hub: how a feed's items reach a socket.
 *
 * Every subscription's subscribe resolver opens a feed (src/live/feed.ts). Over graphql-ws, the feed is attached
 * to a `SocketStream`: its items are executed and written to the socket here, with no async iterator between the
 * bus and the socket. graphql-ws holds the SocketStream as the operation's result and waits on ONE pending
 * `next()` for the whole life of the subscription; that promise settles when the stream ends (graphql-ws then
 * sends `complete`) or fails (graphql-ws sends `error`), so the protocol is exactly graphql-ws's.
 *
 * Shared execution: subscribers whose selection is shareable (src/live/sharing.ts, an explicit opt-in of every
 * type and field in it) and that have the same document, variables and viewer kind form a group. The bus hands
 * the same event object to every feed of a channel, so the first subscriber of a group to receive it starts ONE
 * execution; when it is done, the result is serialized once and written to each waiting socket in one
 * synchronous loop (src/live/socket.ts frames it once per subscription id). Everything else (replays from the
 * database, events a feed mapped for its subscriber, viewer-dependent selections) is executed per subscriber.
 * A subscriber only receives an event its own feed pushed, so it never gets what its own execution would not
 * have given it.
 *
 * Over HTTP (server-sent events), the feed is pulled as an async iterator and each item executed in turn.
 */
import { execute } from '@graphql-tools/executor';
import { createSourceEventStream, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import { asGraphQLError, Feed, type FeedSink } from './feed.ts';
import { planSharing, type SharePlan, type SharingRules } from './sharing.ts';
import { nextFrameHead } from './socket.ts';

/** Counters for tests and metrics: executions of shared live events, and deliveries that reused one. */
export const liveStats = { executions: 0, sharedDeliveries: 0 };

/** What a socket operation's rootValue carries (set by the socket's onSubscribe): where its frames go. */
export interface SocketRoot {
  socket: WebSocket;
  id: string;
}

/** Where a stream writes: its socket and the head of its `next` frames (src/live/socket.ts nextFrameHead). */
interface Target {
  socket: WebSocket;
  head: Buffer;
}

export interface HubOptions {
  /** Shared execution on (server.live_shared_execution). */
  shared: boolean;
  /** What may be shared: open fields the domains listed (src/live/sharing.ts), for a schema. */
  sharing(schema: GraphQLSchema): SharingRules;
  /** Writes one result as a `next` frame after `head` (src/live/socket.ts). */
  write(socket: WebSocket, head: Buffer, result: ExecutionResult): void;
  /** The result as the client may see it: errors masked and logged (what yoga does to every result). */
  finish(result: ExecutionResult, context: unknown): ExecutionResult;
  /** One item delivered to one subscriber of `field` (metrics). */
  delivered?(field: string): void;
  /** The label of a subscription: its first root field. */
  fieldOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): string;
}

/** One execution of one item for a stream (and its group): its result once known, and the streams waiting for it. */
class Pending {
  result?: ExecutionResult;
  waiters?: SocketStream[];

  constructor(args: ExecutionArgs, item: unknown, hub: HubOptions) {
    let out: ExecutionResult | Promise<ExecutionResult>;
    try {
      out = execute({ ...args, rootValue: item }) as ExecutionResult | Promise<ExecutionResult>;
    } catch (err) {
      out = { errors: [asGraphQLError(err)] };
    }
    if (!isPromise(out)) {
      this.result = hub.finish(out, args.contextValue);
      return;
    }
    out.then(
      (r) => this.settle(hub.finish(r, args.contextValue)),
      (err: unknown) => this.settle(hub.finish({ errors: [asGraphQLError(err)] }, args.contextValue)),
    );
  }

  /** The result is known: each waiting stream writes what is now at its head, in one loop. */
  private settle(result: ExecutionResult) {
    this.result = result;
    const waiters = this.waiters;
    this.waiters = undefined;
    if (waiters) for (const stream of waiters) stream.flush();
  }
}

/** The running execution of each item, per group; entries go when the item does. */
const shared = new WeakMap<object, Map<string, Pending>>();

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * One subscription on one socket: the sink of its feed, and (for graphql-ws) the operation's result, an async
 * generator that yields nothing and settles when the subscription ends.
 */
export class SocketStream implements FeedSink<unknown>, AsyncGenerator<never> {
  /** Items whose results are written in order; the head is written as soon as its result is known. */
  private queue: Pending[] = [];
  private ending = false;
  private over = false;
  private failure?: GraphQLError;
  private parked?: { resolve: (r: IteratorResult<never>) => void; reject: (e: unknown) => void };

  constructor(
    private readonly feed: Feed<unknown>,
    private readonly target: Target,
    private readonly args: ExecutionArgs,
    /** The group key when shared, else undefined. */
    private readonly group: string | undefined,
    private readonly field: string,
    private readonly hub: HubOptions,
  ) {}

  /** graphql-ws's one pull: settles when the subscription ends. */
  next(): Promise<IteratorResult<never>> {
    if (this.failure) {
      const error = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.over) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.parked = { resolve, reject }));
  }

  /** An item of the feed: executed (or its group's execution reused), then written in order. */
  item(item: unknown) {
    if (this.over) return;
    let pending: Pending;
    if (this.group !== undefined && item !== null && typeof item === 'object') {
      let byGroup = shared.get(item);
      if (!byGroup) shared.set(item, (byGroup = new Map()));
      const known = byGroup.get(this.group);
      if (known) {
        liveStats.sharedDeliveries++;
        pending = known;
      } else {
        liveStats.executions++;
        pending = new Pending(this.args, item, this.hub);
        byGroup.set(this.group, pending);
      }
    } else {
      pending = new Pending(this.args, item, this.hub);
    }
    if (pending.result && !this.queue.length) return this.write(pending.result);
    this.queue.push(pending);
    if (!pending.result) (pending.waiters ??= []).push(this);
  }

  /** Writes the results known at the head of the queue, in order; completes once drained after the end. */
  flush() {
    let i = 0;
    const q = this.queue;
    while (i < q.length && q[i].result && !this.over) this.write(q[i++].result!);
    if (i) this.queue = i === q.length ? [] : q.slice(i);
    if (this.ending && !this.queue.length) this.settle();
  }

  private write(result: ExecutionResult) {
    this.hub.write(this.target.socket, this.target.head, result);
    this.hub.delivered?.(this.field);
  }

  complete(): void {
    this.ending = true;
    if (!this.queue.length) this.settle();
  }

  error(error: GraphQLError): void {
    if (this.over) return;
    this.over = true;
    this.queue = [];
    // Masked and logged like any result's errors (an unexpected failure inside a feed keeps its details out).
    error = (this.hub.finish({ errors: [error] }, this.args.contextValue).errors?.[0] as GraphQLError | undefined) ?? error;
    const parked = this.parked;
    this.parked = undefined;
    if (parked) parked.reject(error);
    else this.failure = error;
  }

  private settle() {
    if (this.over) return;
    this.over = true;
    const parked = this.parked;
    this.parked = undefined;
    parked?.resolve(DONE);
  }

  /** The client completed the subscription, or the socket closed. */
  return(): Promise<IteratorResult<never>> {
    this.feed.close();
    this.queue = [];
    this.failure = undefined;
    this.settle();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<never>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }
}

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return !!x && typeof (x as Promise<T>).then === 'function';
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Over HTTP: the feed pulled, each item executed in turn. */
async function* executeEach(feed: Feed<unknown>, args: ExecutionArgs): AsyncGenerator<ExecutionResult> {
  try {
    for await (const item of feed) yield await (execute({ ...args, rootValue: item }) as ExecutionResult | Promise<ExecutionResult>);
  } finally {
    feed.close();
  }
}

const hubStreams = new WeakMap<object, SocketStream>();

/** The hub's stream of a socket subscription, by its rootValue, once (src/live/endpoint.ts hands it to graphql-ws). */
export function takeHubStream(root: object): SocketStream | undefined {
  const stream = hubStreams.get(root);
  hubStreams.delete(root);
  return stream;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return !!x && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/**
 * The envelop plugin that runs every subscription: after every other plugin's onSubscribe (acting gate, rate
 * limit, metrics), the field's subscribe resolver opens a feed, which is attached to its socket's stream
 * (graphql-ws) or pulled (HTTP). A resolver that returns anything but a feed is an internal error: feeds are
 * the one way subscriptions are built.
 */
export function useLiveHub(opts: HubOptions): Plugin {
  const plans = new WeakMap<object, WeakMap<DocumentNode, Map<string, SharePlan>>>();
  const rules = new WeakMap<GraphQLSchema, SharingRules>();
  const rulesOf = (schema: GraphQLSchema) => {
    let r = rules.get(schema);
    if (!r) rules.set(schema, (r = opts.sharing(schema)));
    return r;
  };
  const planOf = (args: ExecutionArgs): SharePlan => {
    let bySchema = plans.get(args.schema);
    if (!bySchema) plans.set(args.schema, (bySchema = new WeakMap()));
    let byDoc = bySchema.get(args.document);
    if (!byDoc) bySchema.set(args.document, (byDoc = new Map()));
    const name = args.operationName ?? '';
    let plan = byDoc.get(name);
    if (!plan) byDoc.set(name, (plan = planSharing(args.schema, args.document, args.operationName, rulesOf(args.schema))));
    return plan;
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (a: ExecutionArgs) => {
        const source = await createSourceEventStream(a);
        if (!isAsyncIterable(source)) return source;
        if (!(source instanceof Feed)) {
          await (source as unknown as AsyncIterator<unknown>).return?.();
          return { errors: [new GraphQLError('A subscription must be built on a feed (src/live/feed.ts)')] };
        }
        const root = a.rootValue as Partial<SocketRoot> | undefined;
        if (!root?.socket || root.id === undefined) return executeEach(source, a);
        const plan = opts.shared ? planOf(a) : undefined;
        const viewerKind = (a.contextValue as { viewer?: { kind?: string } } | undefined)?.viewer?.kind ?? '';
        const group = plan?.shareable ? `${plan.key}\n${viewerKind}\n${stableJson(a.variableValues ?? {})}` : undefined;
        // The stream holds what executing an item needs, not the socket operation's rootValue.
        const args: ExecutionArgs = { ...a, rootValue: undefined };
        const stream = new SocketStream(source, { socket: root.socket, head: nextFrameHead(root.id) }, args, group, opts.fieldOf(a.schema, a.document, a.operationName), opts);
        hubStreams.set(root as object, stream);
        source.attach(stream);
        return stream;
      });
    },
  };
}
