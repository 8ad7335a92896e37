import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppModule, Route } from './app-module.ts';
import type { Viewer } from './auth/identity.ts';
import type { AppServices } from './context.ts';
import { databaseKind, type Config } from './config.ts';
import { poolStats, sqliteWalBytes } from './db/client.ts';

/**
 * The Prometheus side of one app. Every app has its own registry (tests run several apps in one
 * process, and prom-client's global registry would refuse the second set of metrics). app.ts calls
 * the recording functions from the graphql-ws hooks, the pub/sub and the database client; modules
 * report their workers' state through `AppModule.gauges`.
 */
export interface Metrics {
  registry: Registry;
  /** yoga/envelop plugins: operations by name and outcome, errors by code, phase and HTTP timings. */
  plugins: Plugin[];
  /** GET /metrics (404 when metrics are off; 401 without the configured token). */
  route: Route;
  socketOpened(): void;
  socketClosed(): void;
  subscriptionStarted(field: string): void;
  subscriptionEnded(field: string): void;
  /** A socket or operation refused or closed by a cap or a credential check (`reason`: a snake_case word). */
  socketRefused(reason: string): void;
  /** One event sent to one subscriber. */
  delivered(field: string): void;
  /** Time from publish (on any instance) to this instance receiving the event: once per event, not per subscriber. */
  pubsubLag(topic: string, ms: number): void;
  dbQuery(sql: string, ms: number): void;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** An error's code as the client sees it; uncoded errors are the masked internal ones. */
export const errorCode = (error: unknown): string => {
  const code = error instanceof GraphQLError ? error.extensions?.code : (error as { extensions?: { code?: unknown } })?.extensions?.code;
  if (code === 'GRAPHQL_PARSE_FAILED' || code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_REQUEST') return 'BAD_USER_INPUT';
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
};

/** The first word of a statement (SELECT, INSERT, BEGIN…): a label with few values. */
const statementKind = (sql: string) => /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase().slice(0, 16) ?? 'OTHER';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * prom-client's process metrics (CPU, memory, event-loop lag, GC) describe the process, not an app: one
 * registry for the process, made on first use, appended to every app's scrape (several apps in one
 * process, as in tests, would otherwise each start their own event-loop monitor and GC observer).
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export function createMetrics(config: Config, modules: AppModule[], app: () => AppServices): Metrics {
  const registry = new Registry();
  const enabled = config.metrics.enabled;
  const registers = [registry];

  const operations = new Counter({
    name: 'confab_graphql_operations_total',
    help: 'GraphQL operations by name, type and outcome (ok, error: the result carries errors)',
    labelNames: ['operation_name', 'operation_type', 'outcome'],
    registers,
  });
  const duration = new Histogram({
    name: 'confab_graphql_operation_duration_seconds',
    help: 'Time to execute a query or mutation, or to start a subscription, by name, type and outcome',
    labelNames: ['operation_name', 'operation_type', 'outcome'],
    buckets: SECONDS,
    registers,
  });
  const sockets = new Gauge({ name: 'confab_ws_connections', help: 'Open graphql-ws connections (acknowledged)', registers });
  const subscriptions = new Gauge({ name: 'confab_ws_subscriptions', help: 'Active subscriptions by root field', labelNames: ['field'], registers });
  const refused = new Counter({
    name: 'confab_ws_refused_total',
    help: 'WebSockets and operations refused or closed: caps (address, client, subscriptions) and credentials (revoked, expired)',
    labelNames: ['reason'],
    registers,
  });
  // Counted in a plain map on the hot path (one increment per event per subscriber), handed to the counter on scrape.
  const delivered = new Map<string, number>();
  new Counter({
    name: 'confab_live_deliveries_total',
    help: 'Events sent to subscribers, by root field',
    labelNames: ['field'],
    registers,
    collect() {
      this.reset();
      for (const [field, n] of delivered) this.inc({ field }, n);
    },
  });
  const lag = new Histogram({
    name: 'confab_pubsub_lag_seconds',
    help: 'Time from publish to this instance receiving the event (once per event, however many subscribers hear it), by topic',
    labelNames: ['topic'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers,
  });
  const queries = new Histogram({ name: 'confab_db_query_duration_seconds', help: 'Database statement duration, by statement kind', labelNames: ['statement'], buckets: DB_SECONDS, registers });

  // Per org, counted in a map on the hot path like deliveries. Bounded: the first `maxOrgLabels` orgs seen get a
  // label each, every later one counts as `other`, so a scrape never carries more than maxOrgLabels + 1 series.
  const orgRequests = new Map<string, number>();
  const maxOrgLabels = config.metrics.maxOrgLabels;
  const countOrgRequest = (viewer: Viewer | undefined) => {
    const orgId = viewer?.kind === 'apiKey' ? viewer.orgId : viewer?.kind === 'user' ? viewer.via?.orgId : undefined;
    if (!orgId) return;
    const label = orgRequests.has(orgId) || orgRequests.size < maxOrgLabels ? orgId : 'other';
    orgRequests.set(label, (orgRequests.get(label) ?? 0) + 1);
  };
  new Counter({
    name: 'confab_org_requests_total',
    help: "GraphQL operations made with an org's credentials (its API keys, ACT_AS included), by org id; orgs beyond metrics.max_org_labels count as other",
    labelNames: ['org'],
    registers,
    collect() {
      this.reset();
      for (const [org, n] of orgRequests) this.inc({ org }, n);
    },
  });
  new Gauge({
    name: 'confab_db_pool_connections',
    help: 'Database connections of this instance by state: total and idle (PostgreSQL pool); SQLite has one (total only)',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const pool = poolStats();
      this.set({ state: 'total' }, pool.total);
      if (pool.idle !== undefined) this.set({ state: 'idle' }, pool.idle);
    },
  });
  new Gauge({
    name: 'confab_db_pool_waiting',
    help: 'Queries waiting for a free PostgreSQL pool connection (0 on SQLite)',
    registers,
    collect() {
      this.set(poolStats().waiting ?? 0);
    },
  });
  if (databaseKind(config.database.url) === 'sqlite') {
    new Gauge({
      name: 'confab_sqlite_wal_bytes',
      help: 'Size of the SQLite write-ahead log file in bytes; it grows when checkpoints fall behind',
      registers,
      collect() {
        this.set(sqliteWalBytes() ?? 0);
      },
    });
  }

  for (const m of modules) {
    for (const g of m.gauges?.() ?? []) {
      new Gauge({
        name: g.name,
        help: g.help,
        labelNames: g.labelNames ?? [],
        registers,
        async collect() {
          this.reset();
          const values = await g.read(app()).catch(() => []);
          for (const v of values) (v.labels ? this.set(v.labels, v.value) : this.set(v.value));
        },
      });
    }
  }

  const timed = new WeakMap<object, { name: string; type: string; start: number }>();
  const outcome = (result: unknown) => ((result as ExecutionResult)?.errors?.length ? 'error' : 'ok');
  const finish = (ctx: object, result: unknown) => {
    const t = timed.get(ctx);
    if (!t) return;
    timed.delete(ctx);
    const labels = { operation_name: t.name, operation_type: t.type, outcome: outcome(result) };
    operations.inc(labels);
    duration.observe(labels, (performance.now() - t.start) / 1000);
  };
  const begin = (ctx: object, args: { document: import('graphql').DocumentNode; operationName?: string | null }) => {
    const op = getOperationAST(args.document, args.operationName);
    timed.set(ctx, { name: op?.name?.value ?? 'Anonymous', type: op?.operation ?? 'unknown', start: performance.now() });
  };
  const outcomes: Plugin = {
    onExecute({ args }) {
      begin(args, args);
      countOrgRequest((args.contextValue as { viewer?: Viewer }).viewer);
      return { onExecuteDone: ({ result }) => finish(args, result) };
    },
    onSubscribe({ args }) {
      begin(args, args);
      countOrgRequest((args.contextValue as { viewer?: Viewer }).viewer);
      // A stream that started is `ok`; refusals (permissions, limits) come back as a result with errors.
      return { onSubscribeResult: ({ result }) => finish(args, Symbol.asyncIterator in (result as object) ? {} : result) };
    },
  };

  const prometheus = usePrometheus({
    registry,
    endpoint: false,
    metrics: {
      graphql_envelop_request: false,
      graphql_envelop_request_time_summary: false,
      // Per request, each histogram costs a label object built and filtered, and an observation (together about a
      // tenth of a small request's CPU). Documents are parsed and validated once and then cached, so those two
      // phases measured nearly nothing; a request's whole time is confab_graphql_operation_duration_seconds.
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_request_duration: false,
      graphql_envelop_execute_resolver: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      // Its wrapping of every subscription's stream cost ~5 KB per idle subscriber (heap profile); the time
      // to start a subscription is in confab_graphql_operation_duration_seconds.
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_error_result: createCounter({
        registry,
        counter: { name: 'confab_graphql_errors_total', help: 'Errors in GraphQL results by extensions.code and phase', labelNames: ['code', 'phase', 'operation_name'] },
        fillLabelsFn: (params) => ({ code: errorCode(params.error), phase: params.errorPhase ?? 'unknown', operation_name: params.operationName ?? 'Anonymous' }),
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'confab_http_graphql_duration_seconds',
          help: 'GraphQL-over-HTTP request duration by operation and status',
          labelNames: ['operation_name', 'operation_type', 'method', 'status'],
          buckets: SECONDS,
        },
        fillLabelsFn: (params, ctx) => ({
          operation_name: params.operationName ?? 'Anonymous',
          operation_type: params.operationType ?? 'unknown',
          method: (ctx as { request: Request }).request.method,
          status: (ctx as { response: Response }).response.status,
        }),
      }),
    },
  });

  const route: Route = {
    method: 'GET',
    path: '/metrics',
    async handler(request) {
      if (!enabled) return new Response('Not found', { status: 404 });
      const token = config.metrics.token;
      if (token) {
        const given = /^Bearer\s+(\S.*)$/i.exec(request.headers.get('authorization') ?? '')?.[1]?.trim() ?? '';
        if (!sameToken(given, token)) {
          return new Response('Unauthorized', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
        }
      }
      const text = `${await registry.metrics()}\n${await processMetrics().metrics()}`;
      return new Response(text, { headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' } });
    },
  };

  return {
    registry,
    plugins: enabled ? [outcomes, prometheus] : [],
    route,
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    subscriptionStarted: (field) => subscriptions.inc({ field }),
    subscriptionEnded: (field) => subscriptions.dec({ field }),
    socketRefused: (reason) => refused.inc({ reason }),
    delivered: (field) => void delivered.set(field, (delivered.get(field) ?? 0) + 1),
    pubsubLag: (topic, ms) => lag.observe({ topic }, Math.max(0, ms) / 1000),
    dbQuery: (sql, ms) => queries.observe({ statement: statementKind(sql) }, ms / 1000),
  };
}
