// What a domain module may contribute to the app besides its schema. The modules fill these in
// src/modules/index.ts; the layers below (auth/, db/, schema/) never import a module.
import type { AppServices } from './context.ts';
import type { Viewer } from './auth/identity.ts';
import type { Config } from './config.ts';

/** A plain HTTP endpoint beside GraphQL (health, OpenAI-compatible API, payment webhooks). */
export interface Route {
  method: 'GET' | 'POST';
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler(request: Request, app: AppServices): Promise<Response> | Response;
}

/** One live WebSocket connection, as the socket hooks see it. */
export interface SocketInfo {
  /** Unique per connection, stable from open to close. */
  id: string;
  /** The client's graphql-ws connectionParams, without the credentials (checked at connect, then dropped). */
  params: Record<string, unknown>;
}

/**
 * A value a module reports at each scrape of /metrics (a worker's state, a queue's length). `read`
 * runs at scrape time for that app; a failure leaves the gauge empty for that scrape.
 */
export interface ModuleGauge {
  /** Prometheus name, `confab_<domain>_…`. */
  name: string;
  help: string;
  labelNames?: string[];
  read(app: AppServices): Promise<{ labels?: Record<string, string>; value: number }[]>;
}

/**
 * What a domain may hook into besides the schema: background work that runs while the app runs,
 * HTTP routes, and the life of WebSocket connections (presence).
 */
export interface AppModule {
  name: string;
  routes?: Route[];
  start?(app: AppServices): Promise<void> | void;
  /** `deadline` (epoch ms) is when the drain window ends: work still running then may be cut. */
  stop?(app: AppServices, opts: { deadline: number }): Promise<void> | void;
  /** Root fields (`"Mutation.x"`) that must not exist in the schema under this configuration. */
  hiddenFields?(config: Config): string[];
  onSocketOpen?(viewer: Viewer, app: AppServices, socket: SocketInfo): Promise<void> | void;
  onSocketClose?(viewer: Viewer, app: AppServices, socket: SocketInfo): Promise<void> | void;
  /**
   * Documents of a client this module ships (hash → text, as codegen writes them), accepted by hash
   * beside the operator's manifest when `security.trusted_documents` is on.
   */
  trustedDocuments?(): Record<string, string> | undefined;
  /** Gauges for /metrics (see ModuleGauge). */
  gauges?(): ModuleGauge[];
}
