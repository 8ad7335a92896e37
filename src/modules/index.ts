import type { AppServices } from '../context.ts';
import type { Viewer } from '../auth/viewer.ts';
import type { Config } from '../config.ts';
import { lightningModule } from './lightning/lightning.module.ts';
import { presenceModule } from './presence/presence.module.ts';
import { chatModule } from './chat/chat.module.ts';
import { openaiModule } from './openai/openai.routes.ts';
import { searchModule } from './search/search.module.ts';

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
  /** The client's graphql-ws connectionParams (credentials included: do not log them). */
  params: Record<string, unknown>;
}

/**
 * What a domain may hook into besides the schema: background work that runs while the app runs,
 * HTTP routes, and the life of WebSocket connections (presence).
 */
export interface AppModule {
  name: string;
  routes?: Route[];
  start?(app: AppServices): Promise<void> | void;
  stop?(app: AppServices): Promise<void> | void;
  /** Root fields (`"Mutation.x"`) that must not exist in the schema under this configuration. */
  hiddenFields?(config: Config): string[];
  onSocketOpen?(viewer: Viewer, app: AppServices, socket: SocketInfo): Promise<void> | void;
  onSocketClose?(viewer: Viewer, app: AppServices, socket: SocketInfo): Promise<void> | void;
}

/** Every module with hooks, in start order (stopped in reverse). */
export const appModules: AppModule[] = [chatModule, presenceModule, lightningModule, openaiModule, searchModule];
