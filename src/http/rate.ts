import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { enforceRequestRate } from '../ratelimit.ts';

/**
 * The general request limit on every GraphQL operation, over HTTP and WebSocket alike (WS operations
 * run through the same envelop chain). Over HTTP a refusal is a 429 with Retry-After; over a socket
 * the operation's result carries the RATE_LIMITED error and the connection stays open.
 */
export function useRequestRateLimit(): Plugin<Context> {
  const check = async (ctx: Context & { request?: Request }): Promise<GraphQLError | undefined> => {
    const { rateLimit } = ctx.app.config;
    if (!rateLimit.perClient && !rateLimit.perOrg) return undefined;
    try {
      await enforceRequestRate(ctx.app.limiter, rateLimit, ctx.viewer, ctx.clientIp);
      return undefined;
    } catch (err) {
      if (!(err instanceof GraphQLError)) {
        // The counter store failed (Redis down): serve rather than refuse everyone.
        ctx.log.warn({ err }, 'request rate limit unavailable');
        return undefined;
      }
      if (!ctx.request) return err;
      const retryAfter = String(err.extensions.retryAfter);
      return new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status: 429, headers: { 'retry-after': retryAfter } } } });
    }
  };
  const refuse = async (ctx: Context, stop: (result: { errors: GraphQLError[] }) => void) => {
    const error = await check(ctx);
    if (error) stop({ errors: [error] });
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      await refuse(args.contextValue, setResultAndStopExecution);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      await refuse(args.contextValue, setResultAndStopExecution);
    },
  };
}
