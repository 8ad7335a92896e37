import { GraphQLError } from 'graphql';

/** OpenAI's error body: `{ error: { message, type, param, code } }`, which its clients parse. */
export function openaiError(status: number, message: string, type: string, code: string | null = null, headers: Record<string, string> = {}): Response {
  return Response.json({ error: { message, type, param: null, code } }, { status, headers });
}

const BY_CODE: Record<string, [number, string, string | null]> = {
  UNAUTHENTICATED: [401, 'invalid_request_error', 'invalid_api_key'],
  FORBIDDEN: [403, 'permission_error', 'insufficient_permissions'],
  NOT_FOUND: [404, 'invalid_request_error', 'not_found'],
  BAD_USER_INPUT: [400, 'invalid_request_error', null],
  RATE_LIMITED: [429, 'rate_limit_error', 'rate_limit_exceeded'],
  PAYMENT_REQUIRED: [402, 'insufficient_quota', 'insufficient_quota'],
  CONFLICT: [409, 'invalid_request_error', 'conflict'],
  GONE: [410, 'invalid_request_error', 'gone'],
};

/** A GraphQLError from the shared services (auth, quotas, keys) in OpenAI's shape; anything else is a 500. */
export function fromError(err: unknown): Response {
  if (err instanceof GraphQLError) {
    const code = String(err.extensions?.code ?? '');
    const [status, type, byCode] = BY_CODE[code] ?? [400, 'invalid_request_error', null];
    // A model the org's plan does not include: its own code, so a client can tell it from a missing scope.
    const openaiCode = err.extensions?.reason === 'MODEL_NOT_IN_PLAN' ? 'model_not_in_plan' : byCode;
    const retry = err.extensions?.retryAfter;
    return openaiError(status, err.message, type, openaiCode, retry ? { 'retry-after': String(retry) } : {});
  }
  return openaiError(500, 'The server had an error while processing your request.', 'server_error');
}
