import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';
import { leftovers } from './leftovers.ts';

/** A document from test/gql (`graphql(...)`), typed; or a plain string for ad-hoc queries. */
export type Doc<R = any, V = any> = DocumentTypeDecoration<R, V> | string;

export interface Auth {
  token?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface Result<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLFormattedError[];
  headers: Headers;
}

export interface GqlClient {
  /** POSTs an operation; never throws on GraphQL errors (look at `errors`). */
  gql<R, V>(doc: Doc<R, V>, variables?: V, auth?: Auth): Promise<Result<R>>;
  /** Like gql, but fails the test (printing query and response) unless there are no errors. */
  ok<R, V>(doc: Doc<R, V>, variables?: V, auth?: Auth): Promise<R>;
  /** Expects exactly one error and returns its code; prints the response otherwise. */
  errorCode<R, V>(doc: Doc<R, V>, variables?: V, auth?: Auth): Promise<string | undefined>;
  /** A graphql-ws client authenticated with connectionParams (lazy unless `options` say otherwise); closed after the file. */
  ws(auth?: Auth & { connectionParams?: Record<string, unknown> }, options?: Partial<ClientOptions>): Client;
}

export function createGqlClient(httpUrl: string, wsUrl: string): GqlClient {
  const gql = async <R, V>(doc: Doc<R, V>, variables?: V, auth: Auth = {}): Promise<Result<R>> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...auth.headers };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) headers['x-api-key'] = auth.apiKey;
    const res = await fetch(httpUrl, { method: 'POST', headers, body: JSON.stringify({ query: String(doc), variables }) });
    const body = (await res.json()) as { data?: R | null; errors?: GraphQLFormattedError[] };
    return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
  };
  const explain = (doc: unknown, variables: unknown, res: unknown) =>
    `\n--- query\n${String(doc)}\n--- variables\n${JSON.stringify(variables)}\n--- response\n${JSON.stringify(res, null, 2)}`;
  return {
    gql,
    async ok(doc, variables, auth) {
      const res = await gql(doc, variables, auth);
      if (res.errors?.length || !res.data) throw new Error(`Expected no errors${explain(doc, variables, res)}`);
      return res.data;
    },
    async errorCode(doc, variables, auth) {
      const res = await gql(doc, variables, auth);
      if (res.errors?.length !== 1) throw new Error(`Expected exactly one error${explain(doc, variables, res)}`);
      return res.errors[0].extensions?.code as string | undefined;
    },
    ws(auth = {}, options = {}) {
      const connectionParams: Record<string, unknown> = { ...auth.connectionParams };
      if (auth.token) connectionParams.authorization = `Bearer ${auth.token}`;
      if (auth.apiKey) connectionParams.apiKey = auth.apiKey;
      const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true, ...options });
      leftovers.push(() => client.dispose() as Promise<void>);
      return client;
    },
  };
}

/** A live subscription whose events a test pulls one at a time. */
export interface LiveSubscription<R> {
  /** The next event (waits up to `timeoutMs`). Rejects when the subscription errors or ends first. */
  next(timeoutMs?: number): Promise<ExecutionResult<R>>;
  /** Resolves with nothing if no event arrives within `ms` (else rejects with the event). */
  expectSilence(ms?: number): Promise<void>;
  /** Settles when the server ends the subscription: with its error, or undefined on completion. */
  ended: Promise<unknown>;
  received: ExecutionResult<R>[];
  /**
   * Waits for the subscription to end and returns the error it was refused or ended with: graphql-ws
   * delivers a refused subscribe as one `next` carrying errors then `complete`, an invalid one as `error`.
   */
  rejection(): Promise<GraphQLFormattedError | undefined>;
  close(): void;
}

export function subscribe<R, V>(client: Client, doc: Doc<R, V>, variables?: V): LiveSubscription<R> {
  const queue: ExecutionResult<R>[] = [];
  const received: ExecutionResult<R>[] = [];
  let waiter: ((e: ExecutionResult<R> | Error) => void) | undefined;
  let finished: Error | undefined;
  let settle!: (v: unknown) => void;
  const ended = new Promise((resolve) => (settle = resolve));
  const finish = (err?: unknown) => {
    const reason = Array.isArray(err) ? new Error(JSON.stringify(err)) : err instanceof Error ? err : err ? new Error(JSON.stringify(err)) : undefined;
    finished = reason ?? new Error('subscription completed');
    (finished as any).cause = err;
    settle(err ?? undefined);
    waiter?.(finished);
  };
  const unsubscribe = client.subscribe<R>(
    { query: String(doc), variables: variables as Record<string, unknown> },
    {
      next: (e) => {
        received.push(e as ExecutionResult<R>);
        if (waiter) waiter(e as ExecutionResult<R>);
        else queue.push(e as ExecutionResult<R>);
      },
      error: finish,
      complete: () => finish(),
    },
  );
  const next = (timeoutMs = 5000) =>
    new Promise<ExecutionResult<R>>((resolve, reject) => {
      const queued = queue.shift();
      if (queued) return resolve(queued);
      if (finished) return reject(finished);
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new Error(`No event within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (e) => {
        clearTimeout(timer);
        waiter = undefined;
        e instanceof Error ? reject(e) : resolve(e);
      };
    });
  return {
    next,
    async expectSilence(ms = 300) {
      const e = await next(ms).catch((err: Error) => (err.message.startsWith('No event') ? undefined : Promise.reject(err)));
      if (e) throw new Error(`Expected no event, got ${JSON.stringify(e)}`);
    },
    ended,
    received,
    async rejection() {
      const err = await ended;
      if (Array.isArray(err)) return err[0] as GraphQLFormattedError;
      if (err) return { message: String((err as Error).message ?? err) } as GraphQLFormattedError;
      return received.find((e) => e.errors?.length)?.errors?.[0] as GraphQLFormattedError | undefined;
    },
    close: unsubscribe,
  };
}
