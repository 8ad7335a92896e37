import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';
import { appError } from '../errors.ts';
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

/**
 * An API key acting as a member (X-Acting-User) may run operations whose every root field is one the
 * modules registered as a room operation; any other operation is refused whole (FORBIDDEN, reason
 * ACT_AS_NOT_ALLOWED) before it runs. Each acting operation is logged with both identities (the
 * context's logger carries the key and the user).
 */
export function useActingGate(allowed: ReadonlySet<string>): Plugin {
  const check = (args: { contextValue: unknown; document: DocumentNode; operationName?: string | null }) => {
    const ctx = args.contextValue as Context;
    if (ctx.viewer?.kind !== 'user' || !ctx.viewer.via) return null;
    const fields = rootFields(args.document, args.operationName);
    const refused = fields.filter((f) => !allowed.has(f));
    ctx.log.info({ actingUserId: ctx.viewer.userId, apiKeyId: ctx.viewer.via.apiKeyId, fields, allowed: !refused.length }, 'acting as user');
    if (!refused.length) return null;
    return {
      errors: [
        appError('FORBIDDEN', `An API key acting as a user (X-Acting-User) may use room operations only, not ${refused.join(', ')}`, {
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
