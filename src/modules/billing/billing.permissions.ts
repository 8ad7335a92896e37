import type { DomainPermissions } from '../../auth/permissions.ts';
import { and, isUser, orgRule } from '../../auth/rules.ts';

export const billingPermissions: DomainPermissions = {
  rules: {
    Mutation: { setOrgPlan: and(isUser, orgRule('canSetOrgPlan', (a) => a.input.orgId, { role: 'OWNER' })) },
  },
  nodes: {},
};
