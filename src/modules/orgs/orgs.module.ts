import { defineModule } from '../../app-module.ts';
import { orgsPermissions } from './orgs.permissions.ts';
import './orgs.schema.ts';
import './lifecycle.schema.ts';

/** Orgs, their members and invites, and their lifecycle (update, transfer, delete). */
export const orgsModule = defineModule({ name: 'orgs', permissions: orgsPermissions, topics: ['org:membershipChanged', 'org:updated', 'org:ownershipTransferred'] });
