import { defineModule } from '../../app-module.ts';
import { auditPermissions } from './audit.permissions.ts';
import './audit.schema.ts';

/** The append-only audit log of moderation and admin actions (recordAudit), read through `Org.auditLog`. */
export const auditModule = defineModule({ name: 'audit', permissions: auditPermissions });
