import {
  getOperationAST,
  isAbstractType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { appError } from '../errors.ts';
import { walkSelection } from '../schema/selection-walk.ts';
import { ACTING_USER_HEADER } from './viewer.ts';

const ROOT: Record<string, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

/** The operation's root fields as `Type.field` (through fragments; `__typename` left out). */
export function rootFields(document: DocumentNode, operationName?: string | null): string[] {
  const op = getOperationAST(document, operationName ?? undefined);
  if (!op) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const out = new Set<string>();
  const walk = (set: SelectionSetNode, seen: Set<string>) => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value !== '__typename') out.add(`${ROOT[op.operation]}.${sel.name.value}`);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet, seen);
      else if (!seen.has(sel.name.value)) {
        const f = fragments.get(sel.name.value);
        if (f) walk(f.selectionSet, new Set([...seen, sel.name.value]));
      }
    }
  };
  walk(op.selectionSet, new Set());
  return [...out];
}

/** Is `Type.field` within an acting viewer's reach? */
export type ActingAllows = (type: GraphQLCompositeType, fieldName: string) => boolean;

const PLUMBING = (name: string) => name === 'PageInfo' || /(?:Connection|Edge)$/.test(name);

/**
 * What an acting viewer may select, decided per `Type.field` from the entries the domains register
 * (`DomainPermissions.acting`, gathered by actingAllowlist): `Type.field`, or `Type.*` for all of a
 * type's fields. Always within reach: `__typename`, and the Relay plumbing (connections, edges,
 * PageInfo), which holds nothing but what its `node` fields lead to, judged in turn. A field selected
 * on an interface or a union passes when the abstract type lists it (`Node.id`) or every type it can
 * be at run time does.
 */
export function actingAllows(schema: GraphQLSchema, allowed: ReadonlySet<string>): ActingAllows {
  const listed = (typeName: string, fieldName: string) => allowed.has(`${typeName}.${fieldName}`) || allowed.has(`${typeName}.*`);
  return (type, fieldName) => {
    if (fieldName === '__typename' || PLUMBING(type.name) || listed(type.name, fieldName)) return true;
    if (!isAbstractType(type)) return false;
    const possible = schema.getPossibleTypes(type);
    return possible.length > 0 && possible.every((t) => listed(t.name, fieldName));
  };
}

/** The first `Type.field` in the operation's whole selection that an acting viewer may not select. */
export function firstRefusedField(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, allows: ActingAllows): string | undefined {
  let refused: string | undefined;
  const operation = walkSelection(schema, document, operationName, ({ parentType, name }) => {
    if (allows(parentType, name)) return;
    refused = `${parentType.name}.${name}`;
    return 'stop';
  });
  // No such operation: execution refuses it anyway; the gate does not let it through on that account.
  return operation ? refused : 'an unknown operation';
}

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
    const fields = rootFields(args.document, args.operationName);
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
