/**
 * May a subscription's events be executed once for many subscribers? Decided from the schema, once per
 * parsed document (never per event), with the one selection walker (src/schema/selection-walk.ts). Sharing is
 * an explicit opt-in: the operation's whole selection, through fragments and every possible type of unions
 * and interfaces, must consist of fields that
 *   - a domain listed as shared (`DomainPermissions.liveShared`: `Type.field` or `Type.*`, root Subscription
 *     fields included), saying their value is the same for every viewer who receives the event,
 *   - are open to everyone who receives the event (their permission rule is plain `allow`; the root field may
 *     also carry a rule that depends on the viewer's kind only, which joins the group key),
 *   - carry no directive other than @include/@skip.
 * Anything else is executed per subscriber. A field nobody listed is never shared: forgetting to list one costs
 * speed, not another viewer's data.
 */
import { isAbstractType, print, visit, type DocumentNode, type GraphQLSchema } from 'graphql';
import { createHash } from 'node:crypto';
import { walkSelection, type ListedField } from '../schema/selection-walk.ts';

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

export interface SharingRules {
  /** Fields open to every viewer. */
  open: OpenField;
  /** Root subscription fields whose rule is open, or depends on the viewer's kind only. */
  openRoot: OpenField;
  /** The domains' opt-in (schema/selection-walk.ts `listedFields` over `liveSharedAllowlist`). */
  shared: ListedField;
}

export function planSharing(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, rules: SharingRules): SharePlan {
  const key = createHash('sha256')
    .update(print(document))
    .update('\0')
    .update(operationName ?? '')
    .digest('base64url');
  const no = (reason: string): SharePlan => ({ shareable: false, reason, key });

  let directive: string | undefined;
  visit(document, {
    Directive(node) {
      if (!STANDARD_DIRECTIVES.has(node.name.value)) directive ??= node.name.value;
    },
  });
  if (directive) return no(`directive @${directive}`);

  let why: string | undefined;
  const operation = walkSelection(schema, document, operationName, ({ parentType, field, name, root }) => {
    if (name === '__typename') return;
    if (name.startsWith('__')) why = `introspection field ${name}`;
    else if (!field) why = `unknown field ${name}`;
    else if (!rules.shared(parentType, name)) why = `${parentType.name}.${name} is not listed as shared`;
    else {
      // A field selected on an interface is open when it is open on every implementation.
      const objects = isAbstractType(parentType) ? schema.getPossibleTypes(parentType) : [parentType];
      for (const object of objects) {
        if (!(root ? rules.openRoot : rules.open)(object.name, name)) {
          why = `${object.name}.${name} has a permission rule`;
          break;
        }
      }
    }
    return why ? 'stop' : undefined;
  });
  if (!operation || operation.operation !== 'subscription') return no('not a subscription');
  return why ? no(why) : { shareable: true, key };
}
