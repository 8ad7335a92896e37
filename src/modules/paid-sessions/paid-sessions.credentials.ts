import type { CredentialResolver } from '../../context.ts';
import { db } from '../../db/client.ts';
import { SESSION_TOKEN_PREFIX, sessionForToken } from './paid-sessions.service.ts';

/** `Bearer cfs_…`: the holder of a prepaid session's token may use that one session. */
export const sessionTokenCredentials: CredentialResolver = {
  prefix: SESSION_TOKEN_PREFIX,
  async resolve(app, token) {
    const session = await sessionForToken(app, token);
    return { kind: 'session', sessionId: session.id };
  },
  // The token itself cannot be revoked: it holds while its session exists (an ended session's stream
  // still tells its holder how it ended).
  async stillValid(_app, viewer) {
    if (viewer.kind !== 'session') return undefined;
    return (await db.session.count({ where: { id: viewer.sessionId } })) > 0;
  },
};
