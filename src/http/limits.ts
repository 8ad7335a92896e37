import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServerOptions } from 'node:http';
import type { Config } from '../config.ts';

/**
 * POST bodies GraphQL accepts (`application/graphql-response+json` is what clients put in Accept; yoga
 * reads JSON bodies only). Forms, text and multipart would let a page on another site post without a preflight. */
const GRAPHQL_POST_TYPES = ['application/json'];

/**
 * Headers that mark a GET as sent by a script, not by a link or form on another site (yoga's GraphiQL
 * sends the first; Apollo Client the others). A GET without one, and without a JSON content type, is refused.
 */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'];

const jsonError = (status: number, message: string, reason: string, extra: Record<string, unknown> = {}) =>
  Response.json({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT', reason, ...extra } }] }, { status });

/** 413, closing the connection: the unread rest of the body must not be taken for the next request. */
function tooLarge(limit: number): Response {
  const res = jsonError(413, `Request body too large: the limit is ${limit} bytes`, 'PAYLOAD_TOO_LARGE', { limit });
  res.headers.set('connection', 'close');
  return res;
}

/** Reads a body without a Content-Length (chunked) up to `limit` bytes; undefined once it is bigger. */
async function readCapped(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** A route that reads and limits its own body (Route.rawBody): method and path (a prefix when it ends with `/*`). */
export interface RawBodyRoute {
  method: string;
  path: string;
}
const routeMatches = (path: string, pathname: string) => (path.endsWith('/*') ? pathname.startsWith(path.slice(0, -1)) : pathname === path);

/**
 * Limits every HTTP request before anything parses it: body size (413, on every route, the /v1 API
 * included, except routes that limit their own body: `ownLimits`) and, on the GraphQL endpoint, the content type of POSTs (415). Must be the first plugin.
 */
export function useBodyLimits(maxBodyBytes: number, graphqlEndpoint: string, ownLimits: RawBodyRoute[] = []): Plugin {
  return {
    async onRequest({ request, url, endResponse, setRequest }) {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
      if (ownLimits.some((r) => r.method === request.method && routeMatches(r.path, url.pathname))) return;
      if (url.pathname === graphqlEndpoint && request.method === 'POST') {
        const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
        if (!GRAPHQL_POST_TYPES.includes(type)) {
          return endResponse(
            jsonError(415, `Unsupported content type "${type || 'none'}": POST application/json`, 'UNSUPPORTED_MEDIA_TYPE'),
          );
        }
      }
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        // Node's HTTP parser guarantees the body is no longer than its Content-Length.
        if (Number(declared) > maxBodyBytes) endResponse(tooLarge(maxBodyBytes));
        return;
      }
      if (!request.body) return;
      const body = await readCapped(request.body, maxBodyBytes);
      if (!body) return endResponse(tooLarge(maxBodyBytes));
      setRequest(new Request(request.url, { method: request.method, headers: request.headers, body: body as BodyInit }));
    },
  };
}

/** Turns schema introspection off (`__typename` still works) when the config says so. */
function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

/**
 * Validation errors are returned, not thrown, so error masking never sees them: without this they
 * reach clients as GRAPHQL_VALIDATION_FAILED, outside the documented codes. They become BAD_USER_INPUT
 * (the kind kept in `reason`), and graphql-armor's limit errors get their one shape (queryLimitError).
 */
function useValidationCodes(): Plugin {
  return {
    onValidate() {
      return ({ valid, result }) => {
        if (valid) return;
        for (const error of result as GraphQLError[]) {
          const ext = (((error as { extensions: object }).extensions ??= {}) as Record<string, unknown>);
          const limited = queryLimitError(error);
          if (limited) {
            error.message = limited.message;
            Object.assign(ext, limited.extensions);
          } else if (ext.code !== 'BAD_USER_INPUT') {
            ext.reason = ext.code ?? 'GRAPHQL_VALIDATION_FAILED';
            ext.code = 'BAD_USER_INPUT';
          }
        }
      };
    },
  };
}

const hasNul = (value: unknown): boolean =>
  typeof value === 'string'
    ? value.includes('\u0000')
    : !!value && typeof value === 'object' && Object.values(value).some(hasNul);

/** Per parsed document (yoga hands the same object to every request of the same text): one walk each. */
const nulInDocument = new WeakMap<DocumentNode, boolean>();

function documentHasNul(document: DocumentNode): boolean {
  let found = nulInDocument.get(document);
  if (found === undefined) {
    found = false;
    visit(document, { [Kind.STRING]: (node) => void (found ||= node.value.includes('\u0000')) });
    nulInDocument.set(document, found);
  }
  return found;
}

/**
 * PostgreSQL cannot store U+0000 in text and fails the whole statement (a 500 for e.g. a login whose
 * email holds one). No Confab string needs it, so any argument or variable carrying it is refused up front.
 */
function useNoNulStrings(): Plugin {
  const refuse = (args: { variableValues?: unknown; document: DocumentNode }) =>
    hasNul(args.variableValues) || documentHasNul(args.document)
      ? { errors: [new GraphQLError('Strings may not contain the NUL character (U+0000)', { extensions: { code: 'BAD_USER_INPUT' } })] }
      : undefined;
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = refuse(args);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = refuse(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}

/** The request-hardening plugins, in the order they must run. */
export function requestLimitPlugins(config: Config, graphqlEndpoint: string, ownLimits: RawBodyRoute[] = []): Plugin[] {
  return [
    useBodyLimits(config.server.maxBodyBytes, graphqlEndpoint, ownLimits),
    useCSRFPrevention({ requestHeaders: CSRF_HEADERS }),
    useValidationCodes(),
    useNoNulStrings(),
    ...(config.server.introspection ? [] : [useNoIntrospection()]),
  ];
}

/** Node HTTP server options that cut off slow clients (slowloris): headers and whole request timeouts. */
export function serverTimeouts(config: Config): ServerOptions {
  const { requestTimeoutMs, headersTimeoutMs } = config.server;
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: headersTimeoutMs,
    // Node checks the timeouts on this interval (30 s by default), which would make short timeouts late.
    connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
  };
}

const LIMIT_MESSAGE = /^Syntax Error: ((\w+(?: \w+)?) limit of \d+ exceeded.*)$/;
const LIMIT_NAMES: Record<string, string> = {
  Aliases: 'ALIASES',
  Token: 'TOKENS',
  'Query Cost': 'COST',
  Directives: 'DIRECTIVES',
  'Query depth': 'DEPTH',
};

/**
 * graphql-armor reports its limits as "Syntax Error: Aliases limit of 30 exceeded…", some while
 * parsing and some while validating, so they came back with different statuses. This gives every
 * one the same shape: status 400, BAD_USER_INPUT, `reason: QUERY_LIMIT`, `limit` naming which, and
 * the message without the misleading prefix. Returns undefined for any other error.
 */
export function queryLimitError(error: GraphQLError): GraphQLError | undefined {
  const match = LIMIT_MESSAGE.exec(error.message);
  if (!match) return undefined;
  return new GraphQLError(match[1], {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { code: 'BAD_USER_INPUT', reason: 'QUERY_LIMIT', limit: LIMIT_NAMES[match[2]] ?? match[2].toUpperCase(), http: { status: 400 } },
  });
}

/** The CSRF plugin's refusal, as FORBIDDEN (its error carries no code of its own). */
export function csrfError(error: GraphQLError): GraphQLError | undefined {
  if (error.message !== 'Required CSRF header(s) not present') return undefined;
  return new GraphQLError(`${error.message}: send one of ${CSRF_HEADERS.join(', ')}, or POST application/json`, {
    extensions: { code: 'FORBIDDEN', reason: 'CSRF', http: { status: 403 } },
  });
}
