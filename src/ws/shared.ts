/**
 * Shared live execution, as an envelop plugin: every subscription still goes through yoga's envelop
 * (armor limits at parse/validate, the shield middleware in the schema, error masking and the error
 * handler on each result), and each subscriber still gets its OWN event stream from its OWN
 * subscribe resolver (which authorizes it, filters what it may see and ends when its access ends).
 *
 * What is shared is the execution of the selection for one event: the pub/sub hands the same event
 * object to every listening stream, so subscribers whose selection cannot depend on the viewer
 * (src/ws/selection.ts) and that have the same document, variables and viewer kind form a group; the
 * first of the group to pull an event executes it, the others reuse that result (and its one JSON,
 * src/ws/server.ts). A subscriber only receives an event its own stream yielded, so it never gets
 * what its own execution would not have given it. Events that are not shared objects (replays from
 * the database, per-subscriber mapped events) are executed per subscriber.
 */
import { execute } from '@graphql-tools/executor';
import { createSourceEventStream, getOperationAST, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { planSharing, type OpenField, type SharePlan } from './selection.ts';

/** Counters for tests and metrics: executions of live events and deliveries that reused one. */
export const liveStats = { executions: 0, sharedDeliveries: 0 };

export interface SharedExecutionOptions {
  enabled: boolean;
  /** Fields open to every viewer (src/auth/permissions.ts `openFields`). */
  open: OpenField;
  /** Root subscription fields whose rule is open, or depends on the viewer's kind only. */
  openRoot: OpenField;
}

/** The running execution of each event, per group; entries go when the event object does. */
const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return !!x && typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function useSharedLiveExecution(opts: SharedExecutionOptions): Plugin {
  const plans = new WeakMap<object, WeakMap<DocumentNode, Map<string, SharePlan>>>();
  const planOf = (args: ExecutionArgs): SharePlan => {
    let bySchema = plans.get(args.schema);
    if (!bySchema) plans.set(args.schema, (bySchema = new WeakMap()));
    let byDoc = bySchema.get(args.document);
    if (!byDoc) bySchema.set(args.document, (byDoc = new Map()));
    const name = args.operationName ?? '';
    let plan = byDoc.get(name);
    if (!plan) byDoc.set(name, (plan = planSharing(args.schema, args.document, args.operationName, opts.open, opts.openRoot)));
    return plan;
  };

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      if (!opts.enabled) return;
      const plan = planOf(args);
      if (!plan.shareable) return;
      setSubscribeFn(async (a: ExecutionArgs) => {
        const source = await createSourceEventStream(a);
        // Errors (bad variables, a refused subscription) take the usual path, to read exactly as before.
        if (!isAsyncIterable(source)) return subscribeFn(a);
        const viewerKind = (a.contextValue as { viewer?: { kind?: string } } | undefined)?.viewer?.kind ?? '';
        const group = `${plan.key}\n${viewerKind}\n${stableJson(a.variableValues ?? {})}`;
        const operation = getOperationAST(a.document, a.operationName);
        return mapEvents(source, (payload) => executeShared(payload, group, () => execute({ ...a, rootValue: payload }) as Promise<ExecutionResult> | ExecutionResult), operation);
      });
    },
  };
}

function executeShared(payload: unknown, group: string, run: () => Promise<ExecutionResult> | ExecutionResult): Promise<ExecutionResult> {
  if (payload === null || typeof payload !== 'object') {
    liveStats.executions++;
    return Promise.resolve(run());
  }
  let byGroup = executions.get(payload);
  if (!byGroup) executions.set(payload, (byGroup = new Map()));
  let result = byGroup.get(group);
  if (result) {
    liveStats.sharedDeliveries++;
    return result;
  }
  liveStats.executions++;
  result = Promise.resolve().then(run);
  byGroup.set(group, result);
  return result;
}

/**
 * Each source event mapped to its result; `return()` closes the source at once (even while it waits
 * for an event), as graphql-tools' own mapping does.
 */
function mapEvents(
  source: AsyncIterable<unknown>,
  fn: (payload: unknown) => Promise<ExecutionResult>,
  operation: ReturnType<typeof getOperationAST>,
): AsyncGenerator<ExecutionResult> {
  const it = source[Symbol.asyncIterator]();
  const wrap = (error: unknown) => {
    const err = error instanceof Error ? error : new Error(String(error));
    return new GraphQLError(err.message, { originalError: err, nodes: operation ? [operation] : undefined });
  };
  const mapped: AsyncGenerator<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      return mapped;
    },
    async next() {
      let r: IteratorResult<unknown>;
      try {
        r = await it.next();
      } catch (error) {
        throw wrap(error);
      }
      if (r.done) return { done: true, value: undefined };
      return { done: false, value: await fn(r.value) };
    },
    async return() {
      await it.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      if (it.throw) await it.throw(error);
      throw error;
    },
  } as AsyncGenerator<ExecutionResult>;
  return mapped;
}
