import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, isSelf, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db.ts';
import { forbidden } from '../../errors.ts';
import { canSeeUser } from './users.service.ts';

export const usersPermissions: DomainPermissions = {
  rules: {
    Query: { me: allow },
    Mutation: { register: allow, login: allow, refreshAccessToken: allow, logout: allow },
    User: { '*': allow, orgs: isSelf },
    AuthPayload: { '*': allow },
    LogoutPayload: { '*': allow },
  },
  nodes: {
    User: async (ctx, user: { id: string }) => {
      const viewer = ctx.viewer;
      if (viewer.kind === 'user') return canSeeUser(viewer.userId, user.id);
      if (viewer.kind === 'apiKey') return (await db.membership.count({ where: { userId: user.id, orgId: viewer.orgId } })) > 0;
      return false;
    },
  },
};
