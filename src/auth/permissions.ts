import { type GraphQLSchema, isObjectType } from 'graphql';
import { shield } from 'graphql-shield';
import type { IRules } from 'graphql-shield';
import type { Context, NodeVisibility } from '../context.ts';
import { forbidden } from '../errors.ts';
import { allow, deny } from './rules.ts';

/** May the viewer see this loaded object? Used by node(id)/nodes(ids); absent typename → no. */
export type NodeGuard = (ctx: Context, node: any) => boolean | Promise<boolean>;

/** What each domain's `*.permissions.ts` exports, and its module's definition carries (`permissions`). */
export interface DomainPermissions {
  rules: Record<string, Record<string, any>>;
  nodes: Record<string, NodeGuard>;
  /**
   * What an org's ACT_AS API key acting as a member (X-Acting-User) may select in this domain, per
   * type: the field names (root fields included), or `'*'` for all of the type's fields. What no
   * domain lists is refused whole before execution (auth/acting.ts); which objects the listed fields
   * show is still up to `rules`, which confine such a viewer to the key's org.
   */
  acting?: Record<string, readonly string[] | '*'>;
  /**
   * The node types node(id)/nodes(ids) may show an acting viewer (through this domain's guard in
   * `nodes`, which must confine it to the key's org); every other type is null to it, as if missing.
   */
  actingNodes?: readonly string[];
  /**
   * What a live event executed ONCE for a group of subscribers may select in this domain (src/live/sharing.ts),
   * per type: field names (root Subscription fields included), or `'*'` for all of the type's fields. An explicit
   * opt-in: list a field only if its value is the same for every viewer who receives the event (its resolver
   * reads nothing from ctx.viewer, and its permission rule is plain `allow`). A selection with any other field
   * is executed per subscriber.
   */
  liveShared?: Record<string, readonly string[] | '*'>;
  /**
   * The root fields (`{ Mutation: ['verifyEmail'] }`) a user whose email is not verified may use while
   * `auth.require_verified_email` is on (auth/verified.ts); every other root field is refused to them.
   */
  unverified?: Record<string, readonly string[]>;
}

/** The domains' `acting` entries as one set of `Type.field` and `Type.*`, for useActingGate. */
export function actingAllowlist(domains: DomainPermissions[]): ReadonlySet<string> {
  return allowlistOf(domains.map((d) => d.acting));
}

/** The domains' `unverified` entries as one set of `Type.field`, for useVerifiedEmailGate. */
export function unverifiedAllowlist(domains: DomainPermissions[]): ReadonlySet<string> {
  return allowlistOf(domains.map((d) => d.unverified));
}

/** The domains' `liveShared` entries as one set of `Type.field` and `Type.*`, for shared live execution. */
export function liveSharedAllowlist(domains: DomainPermissions[]): ReadonlySet<string> {
  return allowlistOf(domains.map((d) => d.liveShared));
}

function allowlistOf(lists: (Record<string, readonly string[] | '*'> | undefined)[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const list of lists) {
    for (const [type, fields] of Object.entries(list ?? {})) for (const field of fields === '*' ? ['*'] : fields) out.add(`${type}.${field}`);
  }
  return out;
}

function mergeRules(domains: DomainPermissions[]): Record<string, Record<string, any>> {
  const tree: Record<string, Record<string, any>> = {};
  for (const { rules } of domains) {
    for (const [type, fields] of Object.entries(rules)) {
      tree[type] ??= {};
      for (const [field, r] of Object.entries(fields)) {
        if (tree[type][field]) throw new Error(`Permission for ${type}.${field} is defined twice`);
        tree[type][field] = r;
      }
    }
  }
  return tree;
}

/**
 * Guards per type, from the domains the app registers. A type two domains share (Session) may have a
 * guard from each: passing either shows it. A type nobody guards is never shown, nor one that no domain
 * lists in `actingNodes` to an API key acting as a member.
 */
export function nodeVisibility(domains: DomainPermissions[]): NodeVisibility {
  const guards = new Map<string, NodeGuard[]>();
  for (const { nodes } of domains) for (const [type, guard] of Object.entries(nodes)) guards.set(type, [...(guards.get(type) ?? []), guard]);
  const actingNodes = new Set(domains.flatMap((d) => d.actingNodes ?? []));
  return async (ctx, typename, node) => {
    if (ctx.viewer.kind === 'user' && ctx.viewer.via && !actingNodes.has(typename)) return false;
    for (const guard of guards.get(typename) ?? []) if (await guard(ctx, node)) return true;
    return false;
  };
}

/**
 * The one shield tree, merged from every domain the app registers (src/modules/index.ts), with `fallbackRule: deny`. Relay plumbing
 * (connections, edges, PageInfo) carries no data of its own and is allowed; everything else,
 * including each domain's object types, must be listed by its domain.
 */
export function buildPermissions(schema: GraphQLSchema, domains: DomainPermissions[]) {
  const tree = mergeRules(domains);
  // Root fields hidden under this configuration (see AppModule.hiddenFields) lose their rules too.
  for (const [typeName, fields] of Object.entries(tree)) {
    const type = schema.getType(typeName);
    if (!type || !isObjectType(type)) continue;
    for (const field of Object.keys(fields)) if (field !== '*' && !type.getFields()[field]) delete fields[field];
  }
  // node/nodes check each result themselves (nodeVisibility), per type.
  tree.Query = { ...tree.Query, node: allow, nodes: allow };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    if (type.name === 'PageInfo' || /(?:Connection|Edge)$/.test(type.name)) tree[type.name] ??= { '*': allow };
  }
  const middleware = shield(tree as IRules, {
    fallbackRule: deny,
    fallbackError: () => forbidden(),
    allowExternalErrors: true,
    debug: false,
  }).generate(schema) as Record<string, Record<string, unknown>>;
  // A field whose rule is plain `allow` is left unwrapped: shield's wrapper would turn every such
  // field (most of them) into an async call, per subscriber and per event on hot subscriptions.
  // Fields without a rule keep the wrapper and fall back to deny.
  for (const [typeName, fields] of Object.entries(middleware)) {
    const rules = tree[typeName] ?? {};
    for (const field of Object.keys(fields)) {
      if ((rules[field] ?? rules['*']) === allow) delete fields[field];
    }
  }
  return middleware;
}

/**
 * Is this field's rule plain `allow` (its value cannot be refused to one viewer and given to
 * another)? Shared live execution only shares selections made of such fields.
 */
export function openFields(domains: DomainPermissions[], alsoOpen: unknown[] = []): (typeName: string, fieldName: string) => boolean {
  const tree = mergeRules(domains);
  const open = new Set<unknown>([allow, ...alsoOpen]);
  return (typeName, fieldName) => {
    if (fieldName === '__typename') return true;
    if (typeName === 'PageInfo' || /(?:Connection|Edge)$/.test(typeName)) return open.has(tree[typeName]?.[fieldName] ?? tree[typeName]?.['*'] ?? allow);
    const rules = tree[typeName];
    return !!rules && open.has(rules[fieldName] ?? rules['*']);
  };
}
