import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, and, checkOrg, idOf, isUser, orgRule, passes, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';

const canRemoveProviderKey = ruleOf('canRemoveProviderKey', async (ctx, args) => {
  const key = await db.providerKey.findUnique({ where: { id: idOf(args.input.providerKeyId, 'ProviderKey', 'providerKeyId') }, select: { orgId: true } });
  return key ? checkOrg(ctx, key.orgId, { role: 'ADMIN' }) : notFound('Provider key');
});

/** Org ADMINs (and OWNERs) manage BYOK keys; API keys never do. */
export const providerKeysPermissions: DomainPermissions = {
  rules: {
    Query: { providerKeys: orgRule('canListProviderKeys', (a) => a.orgId, { role: 'ADMIN' }) },
    Mutation: {
      addProviderKey: and(isUser, orgRule('canAddProviderKey', (a) => a.input.orgId, { role: 'ADMIN' })),
      removeProviderKey: and(isUser, canRemoveProviderKey),
    },
    ProviderKey: { '*': allow },
    RemoveProviderKeyPayload: { '*': allow },
  },
  nodes: {
    ProviderKey: (ctx, k: { orgId: string }) => passes(checkOrg(ctx, k.orgId, { role: 'ADMIN' })),
  },
};
