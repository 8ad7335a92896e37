import type { CredentialResolver } from '../../auth/viewer.ts';
import { SESSION_TOKEN_PREFIX, sessionForToken } from './paid-sessions.service.ts';

/** `Bearer cfs_…`: the holder of a prepaid session's token may use that one session. */
export const sessionTokenCredentials: CredentialResolver = {
  prefix: SESSION_TOKEN_PREFIX,
  async resolve(app, token) {
    const session = await sessionForToken(app, token);
    return { kind: 'session', sessionId: session.id };
  },
};
