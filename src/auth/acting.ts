import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { appError } from '../errors.ts';
import { firstUnlisted, listedFields, rootFieldsOf, type ListedField } from '../schema/selection-walk.ts';
import { ACTING_USER_HEADER } from './viewer.ts';

/** Is `Type.field` within an acting viewer's reach? */
export type ActingAllows = ListedField;

/**
 * What an acting viewer may select, decided per `Type.field` from the entries the domains register
 * (`DomainPermissions.acting`, gathered by actingAllowlist): `Type.field`, or `Type.*` for all of a
 * type's fields, and the Relay plumbing (schema/selection-walk.ts `listedFields`).
 */
export const actingAllows = listedFields;

/** The first `Type.field` in the operation's whole selection that an acting viewer may not select. */
export const firstRefusedField = firstUnlisted;

/**
 * An API key acting as a member (X-Acting-User) reaches what the domains registered for acting viewers
 * (the rooms and their people's public fields) and nothing else: an operation that selects anything
 * else anywhere (a room's org, a sender's email, through fragments, aliases or node(id)) is refused
 * whole before it runs (FORBIDDEN, reason ACT_AS_NOT_ALLOWED, naming the first such `Type.field`).
 * Which org's objects it sees is the access checks' business: they confine an acting viewer to the
 * key's org. Each acting operation is logged with both identities (the context's logger carries the
 * key and the user). The verdict is kept per parsed document and operation name.
 */
export function useActingGate(allowed: ReadonlySet<string>): Plugin {
  const verdicts = new WeakMap<DocumentNode, Map<string, string | null>>();
  let allows: { schema: GraphQLSchema; allows: ActingAllows } | undefined;
  const refusedField = (schema: GraphQLSchema, document: DocumentNode, operationName?: string | null) => {
    if (allows?.schema !== schema) allows = { schema, allows: actingAllows(schema, allowed) };
    const byName = verdicts.get(document) ?? new Map<string, string | null>();
    verdicts.set(document, byName);
    const key = operationName ?? '';
    if (!byName.has(key)) byName.set(key, firstRefusedField(schema, document, operationName, allows.allows) ?? null);
    return byName.get(key)!;
  };
  const check = (args: { schema: GraphQLSchema; contextValue: unknown; document: DocumentNode; operationName?: string | null }) => {
    const ctx = args.contextValue as Context;
    if (ctx.viewer?.kind !== 'user' || !ctx.viewer.via) return null;
    const refused = refusedField(args.schema, args.document, args.operationName);
    const fields = rootFieldsOf(args.schema, args.document, args.operationName);
    ctx.log.info({ actingUserId: ctx.viewer.userId, apiKeyId: ctx.viewer.via.apiKeyId, fields, allowed: !refused, refused }, 'acting as user');
    if (!refused) return null;
    return {
      errors: [
        appError('FORBIDDEN', `An API key acting as a user (X-Acting-User) may reach rooms only, not ${refused}`, {
          reason: 'ACT_AS_NOT_ALLOWED',
        }),
      ],
    };
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refusal = check(args);
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}

/** For HTTP routes beside GraphQL (the OpenAI-compatible API): acting as a user is refused there, not ignored. */
export function refuseActingHeader(request: Request) {
  if (request.headers.has(ACTING_USER_HEADER)) {
    throw appError('FORBIDDEN', 'X-Acting-User applies to GraphQL room operations only', { reason: 'ACT_AS_NOT_ALLOWED' });
  }
}
