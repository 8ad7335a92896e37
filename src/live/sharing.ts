/**
 * May a subscription's events be executed once for many subscribers? Decided from the schema, once per
 * parsed document (never per event): the operation's whole selection, through fragments and every
 * possible type of unions and interfaces, must consist of fields that
 *   - are open to everyone who receives the event (their permission rule is plain `allow`; the root
 *     field may also carry a rule that depends on the viewer's kind only, which joins the group key),
 *   - do not depend on the viewer: no `extensions: { viewerDependent: true }` on the field or on
 *     its type (set in the Pothos schema where such fields are defined: `isMine`, unread counts,
 *     roles, anything a resolver reads from `ctx.viewer`),
 *   - carry no directive other than @include/@skip.
 * Anything else is executed per subscriber, as graphql-ws always did.
 */
import {
  getNamedType,
  getOperationAST,
  isAbstractType,
  isObjectType,
  print,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { createHash } from 'node:crypto';

/** Is Type.field's permission plain `allow`? (from the shield tree, src/auth/permissions.ts `openFields`) */
export type OpenField = (typeName: string, fieldName: string) => boolean;

export interface SharePlan {
  /** True when every subscriber with the same document and variables gets the same result. */
  shareable: boolean;
  /** Why not, for logs and tests. */
  reason?: string;
  /** Hash of the printed document and the operation name: part of the group key. */
  key: string;
}

const STANDARD_DIRECTIVES = new Set(['include', 'skip']);

function viewerDependent(x: { extensions?: Readonly<Record<string, unknown>> | null }): boolean {
  return !!x.extensions && (x.extensions as { viewerDependent?: unknown }).viewerDependent === true;
}

export function planSharing(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, open: OpenField, openRoot: OpenField): SharePlan {
  const key = createHash('sha256')
    .update(print(document))
    .update('\0')
    .update(operationName ?? '')
    .digest('base64url');
  const no = (reason: string): SharePlan => ({ shareable: false, reason, key });
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  if (!operation || operation.operation !== 'subscription' || !root) return no('not a subscription');
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === 'FragmentDefinition') fragments.set(d.name.value, d);

  /** Object types a selection on `type` can meet at run time. */
  const possible = (type: GraphQLCompositeType) => (isAbstractType(type) ? schema.getPossibleTypes(type) : isObjectType(type) ? [type] : []);

  const seen = new Set<string>();
  const check = (set: SelectionSetNode, type: GraphQLCompositeType, isRoot: boolean): string | undefined => {
    for (const sel of set.selections) {
      for (const dir of sel.directives ?? []) if (!STANDARD_DIRECTIVES.has(dir.name.value)) return `directive @${dir.name.value}`;
      if (sel.kind === 'Field') {
        const name = sel.name.value;
        if (name === '__typename') continue;
        if (name.startsWith('__')) return `introspection field ${name}`;
        let next: GraphQLNamedType | undefined;
        for (const object of possible(type)) {
          const field = object.getFields()[name];
          if (!field) continue;
          if (!(isRoot ? openRoot : open)(object.name, name)) return `${object.name}.${name} has a permission rule`;
          if (viewerDependent(field) || viewerDependent(object)) return `${object.name}.${name} depends on the viewer`;
          next = getNamedType(field.type);
        }
        if (!next && !isAbstractType(type)) {
          // An interface field is checked on its implementations; a field nowhere defined fails validation earlier.
          return `unknown field ${name}`;
        }
        if (next && viewerDependent(next)) return `${next.name} depends on the viewer`;
        if (sel.selectionSet && next) {
          const why = check(sel.selectionSet, next as GraphQLCompositeType, false);
          if (why) return why;
        }
      } else if (sel.kind === 'InlineFragment') {
        const cond = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined) : type;
        if (!cond) return 'unknown type condition';
        const why = check(sel.selectionSet, cond, isRoot);
        if (why) return why;
      } else {
        const frag = fragments.get(sel.name.value);
        if (!frag) return `unknown fragment ${sel.name.value}`;
        const cond = schema.getType(frag.typeCondition.name.value) as GraphQLCompositeType | undefined;
        if (!cond) return 'unknown type condition';
        const mark = `${frag.name.value}@${isRoot}`;
        if (seen.has(mark)) continue;
        seen.add(mark);
        const why = check(frag.selectionSet, cond, isRoot);
        if (why) return why;
      }
    }
    return undefined;
  };
  const why = check(operation.selectionSet, root, true);
  return why ? no(why) : { shareable: true, key };
}
