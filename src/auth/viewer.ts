import { decodeGlobalID } from '@pothos/plugin-relay';
import type { AppServices, CredentialResolver } from '../context.ts';
import { db } from '../db/client.ts';
import { appError, badInput, notFound } from '../errors.ts';
import { credentialCache } from './credential-cache.ts';
import { ANONYMOUS, type Viewer } from './identity.ts';
import { verifyAccessToken } from './tokens.ts';

export interface Credentials {
  /** `Bearer <jwt | api key | session token>`; a bare value is accepted too (graphql-ws clients often send one). */
  authorization?: string;
  apiKey?: string;
  /** `X-Acting-User` (or the `actingUser` connection param): a member's global User ID, for ACT_AS keys. */
  actingUser?: string;
}

/** The header (and connection param) an ACT_AS key names the member it acts as with. */
export const ACTING_USER_HEADER = 'x-acting-user';

/**
 * Turns credentials into a viewer. No credentials → anonymous; credentials that do not check out are
 * an UNAUTHENTICATED error, never a silent downgrade to anonymous. A bearer value that no registered
 * resolver claims is a JWT access token.
 */
export async function resolveViewer(app: AppServices, creds: Credentials, opts: ResolveOptions = {}): Promise<Viewer> {
  const viewer = await resolveCredentials(app, creds, opts);
  return creds.actingUser === undefined ? viewer : actAs(viewer, creds.actingUser);
}

export interface ResolveOptions {
  /**
   * Keep the user row the token check reads for this request's `me` (takeCheckedUser). Only for a request's
   * own viewer: a WebSocket connection's viewer lives as long as the socket, and would hold the row (password
   * hash, email, dates: ~0.5 KB) all that time for nothing.
   */
  keepUserRow?: boolean;
}

async function resolveCredentials(app: AppServices, creds: Credentials, opts: ResolveOptions): Promise<Viewer> {
  const resolvers = app.auth.credentials;
  const bearer = creds.authorization?.replace(/^Bearer\s+/i, '').trim();
  const apiKey = creds.apiKey?.trim();
  if (apiKey) {
    const resolver = resolvers.find((r) => r.apiKeyHeader);
    if (!resolver) throw appError('UNAUTHENTICATED', 'API keys are not accepted', { reason: 'API_KEY_INVALID' });
    return cachedResolve(app, apiKey, resolver);
  }
  const resolver = bearer ? resolvers.find((r) => bearer.startsWith(r.prefix)) : undefined;
  if (bearer && resolver) return cachedResolve(app, bearer, resolver);
  if (bearer) {
    const cache = credentialCache(app);
    // The cached viewer object is shared by the requests that hit it; it never holds a checked row (checkedRows
    // is only ever set on a request's own, fresh viewer below), so `me` never answers from another request's read.
    const cached = cache.get(bearer);
    if (cached) return cached;
    const epoch = cache.epoch();
    const { userId, version, expiresAt } = await verifyAccessToken(app.config, bearer);
    const user = await db.user.findUnique({ where: { id: userId } });
    if (!user) throw appError('UNAUTHENTICATED', 'Invalid access token', { reason: 'TOKEN_INVALID' });
    if (user.tokenVersion !== version) throw appError('UNAUTHENTICATED', 'Access token revoked', { reason: 'TOKEN_REVOKED' });
    const viewer: Viewer = { kind: 'user', userId };
    const kept: Viewer = { kind: 'user', userId };
    for (const v of [viewer, kept]) accessTokens.set(v, { version, expiresAt });
    cache.keep(bearer, kept, epoch, expiresAt);
    if (opts.keepUserRow) checkedRows.set(viewer, { user, at: Date.now() });
    return viewer;
  }
  return ANONYMOUS;
}

/** A module's credential (an API key), through the credential cache when its resolver is `cacheable`. */
async function cachedResolve(app: AppServices, credential: string, resolver: CredentialResolver): Promise<Viewer> {
  if (!resolver.cacheable) return resolver.resolve(app, credential);
  const cache = credentialCache(app);
  const cached = cache.get(credential);
  if (cached) return cached;
  const epoch = cache.epoch();
  const viewer = await resolver.resolve(app, credential);
  cache.keep(credential, viewer, epoch);
  return viewer;
}

/**
 * An org's API key with the ACT_AS scope acting as one of the org's members. Any other credential is
 * refused (FORBIDDEN), a malformed ID is BAD_USER_INPUT, and someone who is not a member of the key's
 * org does not exist for the key (NOT_FOUND, so users of other orgs cannot be probed).
 */
async function actAs(viewer: Viewer, actingUser: string): Promise<Viewer> {
  const refuse = (message: string) => appError('FORBIDDEN', message, { reason: 'ACT_AS_REFUSED' });
  if (viewer.kind !== 'apiKey') throw refuse('X-Acting-User is only for API keys with the ACT_AS scope');
  if (viewer.projectId) throw refuse('A project API key cannot act as a user');
  if (!viewer.scopes.includes('ACT_AS')) throw refuse('API key lacks the ACT_AS scope');
  let userId: string | undefined;
  try {
    const decoded = decodeGlobalID(actingUser.trim());
    if (decoded.typename === 'User' && decoded.id) userId = String(decoded.id);
  } catch {
    userId = undefined;
  }
  if (!userId) throw badInput('X-Acting-User is not a valid User ID', 'X-Acting-User');
  if (!(await isOrgMember(viewer.orgId, userId))) throw notFound('User');
  return { kind: 'user', userId, via: { apiKeyId: viewer.apiKeyId, orgId: viewer.orgId } };
}

/** May a key of this org act as this user (at connect, and again before each operation on a socket)? */
const isOrgMember = async (orgId: string, userId: string) => (await db.membership.count({ where: { orgId, userId } })) > 0;

/** The access token behind each user viewer that came from one (its version and expiry). */
const accessTokens = new WeakMap<Viewer, { version: number; expiresAt: number }>();

/** When the viewer's credentials expire (epoch ms): an access token's expiry; undefined for those that do not. */
export function credentialExpiry(viewer: Viewer): number | undefined {
  return accessTokens.get(viewer)?.expiresAt;
}

/**
 * Do the credentials a viewer was made from still hold? An access token: not expired, its user still there
 * with the same tokenVersion. An API key or session token: as its resolver says. An acting key: the key,
 * and the member still in the key's org. A WebSocket asks before each operation, so one that arrives
 * after a revocation is refused even before the revocation's event reaches this instance.
 */
export async function credentialsStillValid(app: AppServices, viewer: Viewer): Promise<boolean> {
  if (viewer.kind === 'anonymous') return true;
  const token = accessTokens.get(viewer);
  if (token) {
    if (Date.now() >= token.expiresAt) return false;
    // As an HTTP request with the same token would be (the credential cache): believed for a while, unless revoked.
    const cache = credentialCache(app);
    if (cache.recentlyChecked(viewer)) return true;
    const epoch = cache.epoch();
    const user = await db.user.findUnique({ where: { id: (viewer as { userId: string }).userId }, select: { tokenVersion: true } });
    const valid = !!user && user.tokenVersion === token.version;
    if (valid) cache.checked(viewer, epoch);
    return valid;
  }
  for (const resolver of app.auth.credentials) {
    const valid = await resolver.stillValid?.(app, viewer);
    if (valid === false) return false;
  }
  if (viewer.kind === 'user' && viewer.via) {
    return isOrgMember(viewer.via.orgId, viewer.userId);
  }
  return true;
}

type UserRow = NonNullable<Awaited<ReturnType<typeof db.user.findUnique>>>;
/** The user row the token check just read, per viewer (see takeCheckedUser). */
const checkedRows = new WeakMap<Viewer, { user: UserRow; at: number }>();

/**
 * The user row read while checking this viewer's access token, if read in the last 5 s, once: `me` answers
 * from it instead of reading the same row again (one statement less on every `me` query). Later calls (a
 * graphql-ws connection keeps its viewer for many operations) read the database.
 */
export function takeCheckedUser(viewer: Viewer): UserRow | undefined {
  const checked = checkedRows.get(viewer);
  checkedRows.delete(viewer);
  // 5 s, not less: on a loaded machine one request can take over a second between the check and `me`.
  return checked && Date.now() - checked.at < 5000 ? checked.user : undefined;
}

/** The acting user's id: the user, or for an API key the user who made it (for authorship). */
export function actingUserId(viewer: Viewer): string | undefined {
  if (viewer.kind === 'user') return viewer.userId;
  if (viewer.kind === 'apiKey') return viewer.createdById;
  return undefined;
}
