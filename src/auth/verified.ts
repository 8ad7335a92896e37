import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Context } from '../context.ts';
import { db } from '../db/client.ts';
import { appError } from '../errors.ts';
import { rootFieldsOf } from '../schema/selection-walk.ts';

/** Users known to have verified their email: verification only ever goes one way. */
const verified = new LRUCache<string, true>({ max: 50_000 });

/** Has the user verified their email? One primary-key read until they have, none after. */
export async function isEmailVerified(userId: string): Promise<boolean> {
  if (verified.has(userId)) return true;
  const user = await db.user.findUnique({ where: { id: userId }, select: { emailVerifiedAt: true } });
  if (user?.emailVerifiedAt) verified.set(userId, true);
  return !!user?.emailVerifiedAt;
}

/** The refusal an unverified user gets (FORBIDDEN, reason EMAIL_UNVERIFIED). */
export const emailUnverified = (what: string) =>
  appError('FORBIDDEN', `Verify your email address first (requestEmailVerification, then verifyEmail): ${what} is refused until then`, { reason: 'EMAIL_UNVERIFIED' });

/**
 * With `auth.require_verified_email` on, a signed-in user whose email is not verified may use only the root
 * fields the domains list in `DomainPermissions.unverified` (me, verification, logout, password change,
 * export, deletion); any other operation is refused whole before it runs, over HTTP and graphql-ws alike
 * (FORBIDDEN, reason EMAIL_UNVERIFIED). It runs per operation, so a socket opened before verification
 * reaches more once the email is verified, and nothing more before.
 *
 * A verified user is remembered per process and costs nothing after the first operation (isEmailVerified);
 * an unverified one costs one primary-key read per operation. The REST API beside GraphQL asks the same.
 */
export function useVerifiedEmailGate(enabled: boolean, allowed: ReadonlySet<string>): Plugin {
  if (!enabled) return {};
  const check = async (args: { schema: GraphQLSchema; contextValue: unknown; document: DocumentNode; operationName?: string | null }) => {
    const ctx = args.contextValue as Context;
    if (ctx.viewer?.kind !== 'user') return null;
    const refused = rootFieldsOf(args.schema, args.document, args.operationName).find((f) => !allowed.has(f) && !f.split('.')[1].startsWith('__'));
    if (!refused || (await isEmailVerified(ctx.viewer.userId))) return null;
    return { errors: [emailUnverified(refused)] };
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refusal = await check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = await check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}
