import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, passes, ruleOf } from '../../auth/rules.ts';

/** Usage is for org ADMINs and OWNERs, and API keys of the org with READ. */
export const usagePermissions: DomainPermissions = {
  rules: {
    Org: { usage: ruleOf('canReadOrgUsage', (ctx, _a, org: { id: string }) => checkOrg(ctx, org.id, { role: 'ADMIN', scope: 'READ' }), 'strict') },
    OrgUsage: { '*': allow },
    UsageRecord: { '*': allow },
  },
  nodes: {
    UsageRecord: (ctx, r: { orgId: string }) => passes(checkOrg(ctx, r.orgId, { role: 'ADMIN', scope: 'READ' })),
  },
};
