/**
 * One walk over an operation's selection, with types, for whoever needs to judge an operation by the
 * fields it selects before it runs: the acting gate (auth/acting.ts), shared live execution's planning
 * (live/sharing.ts) and the metrics' label of an operation (its root fields, `rootFieldsOf`).
 *
 * What it guarantees, so callers need not re-derive it:
 * - Every field the operation can select is visited: through named fragments, inline fragments (with
 *   or without a type condition), aliases (the field's name is what counts, not the response key) and
 *   fields selected on interfaces and unions (`parentType` is then the abstract type as written).
 * - @skip/@include are not evaluated: a field that variables might skip is visited all the same, so a
 *   judgement made from the walk holds whatever the variables.
 * - Each named fragment is walked once per operation. Its type condition fixes the types of everything
 *   inside it, so the fields and parent types seen are the same wherever it is spread; the walk stays
 *   linear in the document's size (fragments spread many times, or in a cycle that validation would
 *   refuse anyway, cost nothing more).
 * - Meta fields come with their definitions: `__typename` everywhere, `__schema` and `__type` on the
 *   query root; a field the schema does not know (an unvalidated document) comes with `field: undefined`
 *   and is not descended into.
 */
import {
  getNamedType,
  isAbstractType,
  getOperationAST,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** One field an operation selects. */
export interface SelectedField {
  /** The type it is selected on, as written: an interface or a union when selected through one. */
  parentType: GraphQLCompositeType;
  /** Its definition (meta fields included), or undefined when the schema has no such field. */
  field: GraphQLField<unknown, unknown> | undefined;
  /** The field's name, `parentType.name + '.' + name` being how permissions name it (aliases do not count). */
  name: string;
  node: FieldNode;
  /** Selected on the operation's root type (Query, Mutation, Subscription): a root field. */
  root: boolean;
}

/** A visitor's answer: `'skip'` leaves out the field's own selection, `'stop'` ends the walk. */
export type WalkAnswer = void | 'skip' | 'stop';

/**
 * Visits every field the named (or only) operation of `document` selects, parents before children, in
 * document order. Returns the operation, or undefined when the document has no such operation.
 */
export function walkSelection(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  visit: (field: SelectedField) => WalkAnswer,
): OperationDefinitionNode | undefined {
  const operation = getOperationAST(document, operationName ?? undefined);
  const rootType = operation && schema.getRootType(operation.operation);
  if (!operation || !rootType) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const walked = new Set<string>();
  let stopped = false;

  const walk = (set: SelectionSetNode, type: GraphQLCompositeType): void => {
    for (const sel of set.selections) {
      if (stopped) return;
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const field = fieldOf(schema, type, name);
        const answer = visit({ parentType: type, field, name, node: sel, root: type === rootType });
        if (answer === 'stop') {
          stopped = true;
          return;
        }
        const next = field && getNamedType(field.type);
        if (answer !== 'skip' && sel.selectionSet && next && isCompositeType(next)) walk(sel.selectionSet, next);
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const cond = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : type;
        if (cond && isCompositeType(cond)) walk(sel.selectionSet, cond);
      } else if (!walked.has(sel.name.value)) {
        walked.add(sel.name.value);
        const fragment = fragments.get(sel.name.value);
        const cond = fragment && schema.getType(fragment.typeCondition.name.value);
        if (fragment && cond && isCompositeType(cond)) walk(fragment.selectionSet, cond);
      }
    }
  };
  walk(operation.selectionSet, rootType);
  return operation;
}

function fieldOf(schema: GraphQLSchema, type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (type === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/** Is `Type.field` on a list? (the acting allowlist, the live-shared allowlist) */
export type ListedField = (type: GraphQLCompositeType, fieldName: string) => boolean;

const PLUMBING = (name: string) => name === 'PageInfo' || /(?:Connection|Edge)$/.test(name);

/**
 * A field list that the domains register per type (`Type.field`, or `Type.*` for all of a type's fields), as a
 * predicate. Always on it: `__typename`, and the Relay plumbing (connections, edges, PageInfo), which holds
 * nothing but what its `node` fields lead to, judged in turn. A field selected on an interface or a union
 * passes when the abstract type lists it (`Node.id`) or every type it can be at run time does.
 */
export function listedFields(schema: GraphQLSchema, allowed: ReadonlySet<string>): ListedField {
  const listed = (typeName: string, fieldName: string) => allowed.has(`${typeName}.${fieldName}`) || allowed.has(`${typeName}.*`);
  return (type, fieldName) => {
    if (fieldName === '__typename' || PLUMBING(type.name) || listed(type.name, fieldName)) return true;
    if (!isAbstractType(type)) return false;
    const possible = schema.getPossibleTypes(type);
    return possible.length > 0 && possible.every((t) => listed(t.name, fieldName));
  };
}

/** The first `Type.field` in the operation's whole selection that is not on the list; 'an unknown operation' when there is no such operation. */
export function firstUnlisted(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, listed: ListedField): string | undefined {
  let refused: string | undefined;
  const operation = walkSelection(schema, document, operationName, ({ parentType, name }) => {
    if (listed(parentType, name)) return;
    refused = `${parentType.name}.${name}`;
    return 'stop';
  });
  return operation ? refused : 'an unknown operation';
}

/** The operation's root fields as `Type.field`, in document order (through fragments; `__typename` left out). */
export function rootFieldsOf(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): string[] {
  const out = new Set<string>();
  walkSelection(schema, document, operationName, ({ parentType, name, root }) => {
    if (!root) return;
    if (name !== '__typename') out.add(`${parentType.name}.${name}`);
    return 'skip';
  });
  return [...out];
}
