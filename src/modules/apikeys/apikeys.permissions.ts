import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, and, checkOrg, idOf, isAdminOfParentOrg, isUser, orgRule, passes, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db.ts';
import { notFound } from '../../errors.ts';

const canRevokeApiKey = ruleOf('canRevokeApiKey', async (ctx, args) => {
  const key = await db.apiKey.findUnique({ where: { id: idOf(args.input.id, 'ApiKey') }, select: { orgId: true } });
  return key ? checkOrg(ctx, key.orgId, { role: 'ADMIN' }) : notFound('API key');
});

export const apiKeysPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      createApiKey: and(isUser, orgRule('canCreateApiKey', (a) => a.input.orgId, { role: 'ADMIN' })),
      revokeApiKey: and(isUser, canRevokeApiKey),
    },
    ApiKey: { '*': allow },
    CreateApiKeyPayload: { '*': allow },
    Org: { apiKeys: isAdminOfParentOrg },
  },
  nodes: {
    ApiKey: (ctx, key: { orgId: string }) => passes(checkOrg(ctx, key.orgId, { role: 'ADMIN' })),
  },
};
