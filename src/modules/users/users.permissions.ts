import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, isSelf, passes } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { blocksRules } from './blocks.permissions.ts';
import { canSeeUser } from './users.service.ts';

export const usersPermissions: DomainPermissions = {
  rules: {
    Query: { me: allow },
    Mutation: { register: allow, login: allow, refreshAccessToken: allow, logout: allow, ...blocksRules.Mutation },
    User: { '*': allow },
    // Reached only through me, which answers the signed-in user alone; checked again per field, so that an
    // API key acting as the user (X-Acting-User) never reads the account.
    Viewer: { '*': isSelf },
    AuthPayload: { '*': allow },
    LogoutPayload: { '*': allow },
  },
  nodes: {
    User: async (ctx, user: { id: string }) => {
      const viewer = ctx.viewer;
      if (viewer.kind === 'user') return canSeeUser(viewer.userId, user.id);
      // As Org.members: a key reads its org's people only with READ, and a project-scoped key not at all.
      if (viewer.kind === 'apiKey') {
        if (!(await passes(checkOrg(ctx, viewer.orgId, { scope: 'READ' })))) return false;
        return (await db.membership.count({ where: { userId: user.id, orgId: viewer.orgId } })) > 0;
      }
      return false;
    },
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  // What a user whose email is not verified may still do (auth.require_verified_email).
  unverified: { Query: ['me'], Mutation: ['logout', 'refreshAccessToken', 'login', 'register'] },
  liveShared: { User: ['id', 'name', 'email', 'createdAt', 'lastSeenAt', 'presence', 'avatarUrl', 'deleted'] },
};
