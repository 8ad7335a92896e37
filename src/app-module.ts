// What a domain module contributes to the app, in one definition per module (`defineModule`, in each
// src/modules/<domain>/<domain>.module.ts); src/modules/index.ts lists the modules. The layers below
// (auth/, db/, schema/, live/) never import a module: they receive what the modules define from the app.
import { actingAllowlist, unverifiedAllowlist, type DomainPermissions } from './auth/permissions.ts';
import type { Viewer } from './auth/identity.ts';
import type { Config } from './config.ts';
import type { AppServices, CredentialResolver } from './context.ts';
import type { Topics } from './live/bus.ts';

/** A plain HTTP endpoint beside GraphQL (health, OpenAI-compatible API, payment webhooks). */
export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  /**
   * The handler reads the body itself, as a stream, and enforces its own size limit (attachment uploads,
   * bigger than server.max_body_bytes): the general body limit skips this route.
   */
  rawBody?: boolean;
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
 * What a module may give another module's extension points, one key per module that has some (`chat`:
 * src/modules/chat/hooks.ts). The module with the extension points declares its key here by declaration
 * merging (`declare module '../../app-module.ts'`), as topics are declared in live/bus.ts, so this file knows
 * no module.
 */
export interface ModuleExtensions {}

/**
 * Everything a domain adds to the app. Its GraphQL types and fields are registered on the one Pothos
 * builder by importing its `*.schema.ts` files: the module's file imports them (side effects), so a
 * listed module has its schema. Everything else is a field:
 * authorization (`permissions`), the tokens it issues (`credentials`), the pub/sub topics it announces
 * (`topics`), HTTP routes, hooks into the app's life (start/stop, WebSocket connections, metrics), and what it
 * gives other modules' extension points (ModuleExtensions: `chat`).
 */
export interface AppModule<T extends keyof Topics = keyof Topics> extends ModuleExtensions {
  /** Unique; the folder's name. */
  name: string;
  /**
   * This domain's part of the one graphql-shield tree (auth/permissions.ts merges them, `fallbackRule:
   * deny`: a field nobody lists is refused), its node(id) guards, what an acting key may select, and
   * what live events may share.
   */
  permissions?: DomainPermissions;
  /** Opaque tokens this domain issues (API keys, session tokens), besides the JWT that auth/ knows itself. */
  credentials?: CredentialResolver[];
  /**
   * The pub/sub topics this domain announces, as its `*.topics.ts` declares them in live/bus.ts's
   * TopicRegistry. Each topic has one owner (checked at startup; src/modules/index.ts checks at compile time
   * that every declared topic has one).
   */
  topics?: readonly T[];
  routes?: Route[];
  start?(app: AppServices): Promise<void> | void;
  /** `deadline` (epoch ms) is when the drain window ends: work still running then may be cut. */
  stop?(app: AppServices, opts: { deadline: number }): Promise<void> | void;
  /** Root fields (`"Mutation.x"`) that must not exist in the schema under this configuration. */
  hiddenFields?(config: Config): string[];
  /**
   * Root fields that exist only outside production: left out of the committed schema.graphql and
   * printed into schema.dev.graphql as `extend type …` (src/print-schema.ts).
   */
  devOnlyFields?: string[];
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

/**
 * One module's definition, checked against AppModule. Its topics keep their literal names, so the module
 * list can check that every topic has an owner.
 */
export function defineModule<const T extends keyof Topics = never>(module: AppModule<T>): AppModule<T> {
  return module;
}

/** What the app takes from its modules, gathered from the one list (src/modules/index.ts). */
export interface AssembledModules {
  /** In start order (stopped in reverse). */
  modules: AppModule[];
  /** Each domain's permissions, in list order (node guards of a shared type are tried in this order). */
  permissions: DomainPermissions[];
  /** Every module's credential resolvers, in list order. */
  credentials: CredentialResolver[];
  /** What an org's ACT_AS API key may select as a member (X-Acting-User): every domain's `acting` entries. */
  actingFields: ReadonlySet<string>;
  /** The root fields a user with an unverified email may use (auth.require_verified_email): every domain's `unverified` entries. */
  unverifiedFields: ReadonlySet<string>;
}

/** Gathers the modules' contributions; throws on two modules of one name, or a topic claimed twice. */
export function assembleModules(modules: readonly AppModule[]): AssembledModules {
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const m of modules) {
    if (names.has(m.name)) throw new Error(`Two modules are named ${m.name}`);
    names.add(m.name);
    for (const topic of m.topics ?? []) {
      const owner = owners.get(topic);
      if (owner) throw new Error(`Topic ${topic} is claimed by both ${owner} and ${m.name}`);
      owners.set(topic, m.name);
    }
  }
  const permissions = modules.flatMap((m) => (m.permissions ? [m.permissions] : []));
  return {
    modules: [...modules],
    permissions,
    credentials: modules.flatMap((m) => m.credentials ?? []),
    actingFields: actingAllowlist(permissions),
    unverifiedFields: unverifiedAllowlist(permissions),
  };
}
