import type { DomainPermissions } from '../../auth/permissions.ts';
import { orgRule } from '../../auth/rules.ts';

/** Members (and READ API keys) search their org; the service narrows hits to what they may read. */
export const searchPermissions: DomainPermissions = {
  rules: {
    Query: { searchMessages: orgRule('canSearchOrg', (a) => a.orgId, { scope: 'READ' }) },
  },
  nodes: {},
};
