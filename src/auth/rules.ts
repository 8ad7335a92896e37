import { decodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { allow, and, deny, or, rule } from 'graphql-shield';
import { withFreshLoaders, type Context } from '../context.ts';
import { accessEpoch, accessLost } from '../live/access.ts';
import type { Feed } from '../live/feed.ts';
import { db } from '../db/client.ts';
import { badInput, forbidden, notFound, unauthenticated } from '../errors.ts';
import { accessSubjects, credentialSubjects } from './identity.ts';
import { credentialsStillValid } from './viewer.ts';

export { allow, and, deny, or };

/**
 * A permission check: true, or the GraphQLError to report. The same function backs a shield rule
 * (queries and mutations) and `authorizedSubscribe` (subscriptions, which shield cannot stop).
 */
export type Check<Args = any, Parent = any> = (
  ctx: Context,
  args: Args,
  parent: Parent,
) => boolean | GraphQLError | Promise<boolean | GraphQLError>;

/** Wraps a check as a shield rule; `false` becomes FORBIDDEN rather than shield's masked default. */
export function ruleOf(name: string, check: Check, cache: 'no_cache' | 'contextual' | 'strict' = 'no_cache') {
  return rule(name, { cache })(async (parent, args, ctx) => {
    // Shield turns a thrown error into its fallback (FORBIDDEN), so errors are returned instead: a
    // GraphQLError keeps its code, anything else (the database timing out under load) is reported as
    // the internal error it is (masked and logged), not as a FORBIDDEN that blames the client.
    const result = await Promise.resolve()
      .then(() => check(ctx as Context, args, parent))
      .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    return result === true ? true : result === false ? forbidden() : result;
  });
}

/**
 * The one way a subscription starts: its check runs before its feed is opened, so an unauthorized one never
 * starts; then the feed is guarded (src/live/feed.ts), so it ends with FORBIDDEN once its subscriber loses
 * access. The same check runs again, with fresh loaders and after the viewer's credentials are re-checked,
 * whenever an access change names the viewer (or one of the `watch` subjects, such as the project a KV
 * instance belongs to), and about once a minute in case such an event was lost.
 */
export function authorizedSubscribe<Args, T>(
  check: Check<Args>,
  subscribe: (args: Args, ctx: Context) => Feed<T> | Promise<Feed<T>>,
  opts: { watch?: (args: Args, ctx: Context) => string[] | Promise<string[]> } = {},
) {
  return async (parent: unknown, args: Args, ctx: Context): Promise<Feed<T>> => {
    const epoch = accessEpoch(ctx.app.pubsub);
    const result = await check(ctx, args, parent);
    if (result !== true) throw result === false ? forbidden() : result;
    const subjects = { credentials: credentialSubjects(ctx.viewer), access: [...accessSubjects(ctx.viewer), ...((await opts.watch?.(args, ctx)) ?? [])] };
    const feed = await subscribe(args, ctx);
    feed.guard({
      pubsub: ctx.app.pubsub,
      epoch,
      subjects,
      recheck: async () => {
        if (!(await credentialsStillValid(ctx.app, ctx.viewer))) return accessLost(undefined, 'CREDENTIALS_REVOKED');
        const again = await check(withFreshLoaders(ctx), args, parent);
        return again === true ? true : again === false ? forbidden() : again;
      },
    });
    return feed;
  };
}

/**
 * The raw id behind a global ID argument. Shield sees arguments before Pothos decodes them and
 * subscribe functions after, so both shapes are accepted. A wrong typename is a BAD_USER_INPUT.
 */
export function idOf(value: unknown, typename: string, field = 'id'): string {
  let decoded: { typename: string; id: string } | undefined;
  if (value && typeof value === 'object' && 'typename' in value) decoded = value as { typename: string; id: string };
  else if (typeof value === 'string') {
    try {
      decoded = decodeGlobalID(value);
    } catch {
      decoded = undefined;
    }
  }
  if (!decoded || decoded.typename !== typename || !decoded.id) throw badInput(`${field} is not a valid ${typename} ID`, field);
  return String(decoded.id);
}

/** A person or an API key. A session token does not count: it opens its own session only. */
export const isAuthenticated = ruleOf(
  'isAuthenticated',
  (ctx) => (ctx.viewer.kind !== 'anonymous' && ctx.viewer.kind !== 'session') || unauthenticated(),
  'contextual',
);

/** Signed in as a person (not an API key): account-level actions. */
export const isUser = ruleOf(
  'isUser',
  (ctx) =>
    ctx.viewer.kind === 'user' ||
    (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session' ? unauthenticated() : forbidden('Sign in as a user to do this')),
  'contextual',
);

export type OrgRoleName = 'OWNER' | 'ADMIN' | 'MEMBER';
const RANK: Record<OrgRoleName, number> = { MEMBER: 1, ADMIN: 2, OWNER: 3 };
export const roleAtLeast = (role: OrgRoleName, min: OrgRoleName) => RANK[role] >= RANK[min];

/**
 * The viewer's role in each org, one query per operation however many orgs are asked about. An API key
 * acting as a member has none outside the key's org: every org check goes through here or checkOrg.
 */
export function viewerRole(ctx: Context, orgId: string): Promise<OrgRoleName | null> {
  const viewer = ctx.viewer;
  if (viewer.kind !== 'user' || (viewer.via && viewer.via.orgId !== orgId)) return Promise.resolve(null);
  return roleLoader(ctx, viewer.userId).load(orgId);
}

const roleLoader = (ctx: Context, userId: string) =>
  ctx.loader<string, OrgRoleName | null>('viewerRoleByOrg', async (orgIds) => {
    const rows = await db.membership.findMany({ where: { userId, orgId: { in: [...orgIds] } } });
    const byOrg = new Map(rows.map((m) => [m.orgId, m.role as OrgRoleName]));
    return orgIds.map((id) => byOrg.get(id) ?? null);
  });

/** Drops the viewer's cached role in an org, after a mutation changed it (what the operation answers reads it again). */
export function forgetViewerRole(ctx: Context, orgId: string): void {
  if (ctx.viewer.kind === 'user') roleLoader(ctx, ctx.viewer.userId).clear(orgId);
}

export interface OrgAccess {
  /** Least role a user needs (default MEMBER). */
  role?: OrgRoleName;
  /** Scope an API key of this org needs; without one, API keys are refused. */
  scope?: string;
  /** The project the operation stays within, if any: only then may a project-scoped key pass. */
  projectId?: string | null;
}

/**
 * May the viewer act in this org? Non-members get NOT_FOUND, so org ids cannot be probed; members
 * below the role get FORBIDDEN. An API key passes only in its own org and with the scope.
 */
export async function checkOrg(ctx: Context, orgId: string, access: OrgAccess = {}): Promise<true | GraphQLError> {
  const viewer = ctx.viewer;
  // A session token opens one prepaid session and no org: to an org it is as good as no credentials.
  if (viewer.kind === 'anonymous' || viewer.kind === 'session') return unauthenticated();
  if (viewer.kind === 'apiKey') {
    if (viewer.orgId !== orgId) return notFound('Org');
    if (!access.scope) return forbidden('API keys cannot do this');
    if (viewer.projectId && viewer.projectId !== access.projectId) return forbidden('This API key is limited to one project');
    return viewer.scopes.includes(access.scope) || forbidden(`API key lacks the ${access.scope} scope`);
  }
  // An API key acting as a member stays inside the key's org, whatever else the member belongs to.
  if (viewer.via && viewer.via.orgId !== orgId) return notFound('Org');
  const role = await viewerRole(ctx, orgId);
  if (!role) return notFound('Org');
  return roleAtLeast(role, access.role ?? 'MEMBER') || forbidden(`Requires the ${access.role} role in this org`);
}

/** Shield rule for fields whose `input.<field>` (or argument `<field>`) names an org. */
export function orgRule(name: string, pick: (args: any) => unknown, access: OrgAccess = {}) {
  return ruleOf(name, (ctx, args) => checkOrg(ctx, idOf(pick(args), 'Org', 'orgId'), access));
}

/** A check's outcome as a yes/no, for node guards. */
export const passes = async (result: boolean | GraphQLError | Promise<boolean | GraphQLError>) => (await result) === true;

/** The signed-in user's id, for services whose action needs a person (not an API key or a session token). */
export function requireUserId(ctx: Context): string {
  if (ctx.viewer.kind !== 'user') throw forbidden('Sign in as a user to do this');
  return ctx.viewer.userId;
}

/** Shield rule for fields of Org that only its ADMINs and OWNERs may read (invites, API keys). */
export const isAdminOfParentOrg = ruleOf(
  'isAdminOfParentOrg',
  (ctx, _args, org: { id: string }) => checkOrg(ctx, org.id, { role: 'ADMIN' }),
  'strict',
);

/** Shield rule for User fields only the user may read about themselves (their orgs, rooms, threads…). */
export const isSelf = ruleOf(
  'isSelf',
  // Not for an API key acting as the user: their account (orgs, rooms everywhere, trust) is not the key's business.
  (ctx, _args, user: { id: string }) => (ctx.viewer.kind === 'user' && !ctx.viewer.via && ctx.viewer.userId === user.id) || forbidden(),
  'strict',
);
