import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, isAdminOfParentOrg, passes } from '../../auth/rules.ts';

/** The audit log is the org's OWNERs' and ADMINs' (not API keys'): through `Org.auditLog` and `node(id)` alike. */
export const auditPermissions: DomainPermissions = {
  rules: {
    Org: { auditLog: isAdminOfParentOrg },
    AuditEntry: { '*': allow },
  },
  nodes: {
    AuditEntry: (ctx, e: { orgId: string }) => passes(checkOrg(ctx, e.orgId, { role: 'ADMIN' })),
  },
};
