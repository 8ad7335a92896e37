import { db } from '../../db/client.ts';
import { appError } from '../../errors.ts';
import type { CredentialResolver } from '../../context.ts';
import { API_KEY_PREFIX, findActiveApiKey } from './apikeys.service.ts';

/** `Bearer cfk_…` or `X-API-Key: cfk_…`: the key acts for its org, within its scopes. */
export const apiKeyCredentials: CredentialResolver = {
  prefix: API_KEY_PREFIX,
  apiKeyHeader: true,
  // Keys do not expire, and revokeApiKey announces the revocation (key:<id>). `lastUsedAt` is then written when a
  // check misses the cache, which happens at least every auth.credential_cache_sec.
  cacheable: true,
  async resolve(_app, secret) {
    const key = await findActiveApiKey(secret);
    if (!key) throw appError('UNAUTHENTICATED', 'Invalid or revoked API key', { reason: 'API_KEY_INVALID' });
    return { kind: 'apiKey', apiKeyId: key.id, orgId: key.orgId, scopes: key.scopes, createdById: key.createdById, projectId: key.projectId };
  },
  async stillValid(_app, viewer) {
    const id = viewer.kind === 'apiKey' ? viewer.apiKeyId : viewer.kind === 'user' ? viewer.via?.apiKeyId : undefined;
    if (!id) return undefined;
    const key = await db.apiKey.findUnique({ where: { id }, select: { revokedAt: true } });
    return !!key && !key.revokedAt;
  },
};
