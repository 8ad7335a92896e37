import { GraphQLError } from 'graphql';
import { csrfError, queryLimitError } from './limits.ts';

const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

/** Client-caused errors keep their message and code; anything else is masked (details only outside production). */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) {
    const code = error.extensions?.code as string | undefined;
    if (code && !REQUEST_ERROR_CODES.has(code)) return error;
    const limited = queryLimitError(error) ?? csrfError(error);
    if (limited) return limited;
    // Parse, validation and query-limit failures join the documented set as BAD_USER_INPUT; the
    // specific kind stays in `reason`.
    return new GraphQLError(error.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { ...error.extensions, code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}), ...(isDev ? {} : { originalError: undefined }) },
      // (yoga puts the JSON parser's message in `originalError`; production answers leave it out)
    });
  }
  const original = error instanceof GraphQLError ? error.originalError : error;
  return new GraphQLError(message, {
    nodes: error instanceof GraphQLError ? error.nodes : undefined,
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: {
      code: 'INTERNAL_SERVER_ERROR',
      ...(isDev && original instanceof Error ? { originalError: { message: original.message } } : {}),
    },
  });
}

/** An error as a socket sends it: without yoga's HTTP-only `http` extension. */
export function socketError(error: GraphQLError): GraphQLError {
  if (!error.extensions?.http) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions });
}

