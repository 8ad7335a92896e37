import type { AppServices } from '../context.ts';
import { db } from '../db.ts';
import { appError } from '../errors.ts';
import { API_KEY_PREFIX, findActiveApiKey } from '../modules/apikeys/apikeys.service.ts';
import { SESSION_TOKEN_PREFIX, sessionForToken } from '../modules/paid-sessions/paid-sessions.service.ts';
import { verifyAccessToken } from './tokens.ts';

/** Who is making a request. An API key acts for its org, within its scopes. */
export type Viewer =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: string }
  | { kind: 'apiKey'; apiKeyId: string; orgId: string; scopes: string[]; createdById: string }
  /** A prepaid session's token holder: may use that one session, nothing else (no org, no account). */
  | { kind: 'session'; sessionId: string };

export const ANONYMOUS: Viewer = { kind: 'anonymous' };

export interface Credentials {
  /** `Bearer <jwt | api key | session token>`; a bare value is accepted too (graphql-ws clients often send one). */
  authorization?: string;
  apiKey?: string;
}

/**
 * Turns credentials into a viewer. No credentials → anonymous; credentials that do not check out are
 * an UNAUTHENTICATED error, never a silent downgrade to anonymous.
 */
export async function resolveViewer(app: AppServices, creds: Credentials): Promise<Viewer> {
  const bearer = creds.authorization?.replace(/^Bearer\s+/i, '').trim();
  const apiKey = creds.apiKey?.trim() || (bearer?.startsWith(API_KEY_PREFIX) ? bearer : undefined);
  if (apiKey) {
    const key = await findActiveApiKey(apiKey);
    if (!key) throw appError('UNAUTHENTICATED', 'Invalid or revoked API key', { reason: 'API_KEY_INVALID' });
    return { kind: 'apiKey', apiKeyId: key.id, orgId: key.orgId, scopes: key.scopes, createdById: key.createdById };
  }
  if (bearer?.startsWith(SESSION_TOKEN_PREFIX)) {
    const session = await sessionForToken(app, bearer);
    return { kind: 'session', sessionId: session.id };
  }
  if (bearer) {
    const { userId } = await verifyAccessToken(app.config, bearer);
    const exists = await db.user.count({ where: { id: userId } });
    if (!exists) throw appError('UNAUTHENTICATED', 'Invalid access token', { reason: 'TOKEN_INVALID' });
    return { kind: 'user', userId };
  }
  return ANONYMOUS;
}

/** The acting user's id: the user, or for an API key the user who made it (for authorship). */
export function actingUserId(viewer: Viewer): string | undefined {
  if (viewer.kind === 'user') return viewer.userId;
  if (viewer.kind === 'apiKey') return viewer.createdById;
  return undefined;
}
