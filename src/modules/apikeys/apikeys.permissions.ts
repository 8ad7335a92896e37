import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, and, checkOrg, idOf, isAdminOfParentOrg, isUser, passes, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { Context } from '../../context.ts';
import { notFound } from '../../errors.ts';
import { checkProject } from '../threads/threads.access.ts';

/** Org-wide keys are managed by org ADMINs; a project's keys also by that project's ADMINs. */
const checkKeyManager = async (ctx: Context, key: { orgId: string; projectId: string | null }) => {
  const org = await checkOrg(ctx, key.orgId, { role: 'ADMIN' });
  if (org === true || !key.projectId) return org;
  return (await checkProject(ctx, key.projectId, 'ADMIN')) === true || org;
};

const canCreateApiKey = ruleOf('canCreateApiKey', (ctx, args) =>
  checkKeyManager(ctx, {
    orgId: idOf(args.input.orgId, 'Org', 'orgId'),
    projectId: args.input.projectId ? idOf(args.input.projectId, 'Project', 'projectId') : null,
  }),
);

const canRevokeApiKey = ruleOf('canRevokeApiKey', async (ctx, args) => {
  const key = await db.apiKey.findUnique({ where: { id: idOf(args.input.apiKeyId, 'ApiKey', 'apiKeyId') }, select: { orgId: true, projectId: true } });
  return key ? checkKeyManager(ctx, key) : notFound('API key');
});

export const apiKeysPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      createApiKey: and(isUser, canCreateApiKey),
      revokeApiKey: and(isUser, canRevokeApiKey),
    },
    ApiKey: { '*': allow },
    CreateApiKeyPayload: { '*': allow },
    Org: { apiKeys: isAdminOfParentOrg },
  },
  nodes: {
    ApiKey: (ctx, key: { orgId: string; projectId: string | null }) => passes(checkKeyManager(ctx, key)),
  },
};
