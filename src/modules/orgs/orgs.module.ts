import { defineModule } from '../../app-module.ts';
import { orgsPermissions } from './orgs.permissions.ts';
import './orgs.schema.ts';

/** Orgs, their members and invites. */
export const orgsModule = defineModule({ name: 'orgs', permissions: orgsPermissions, topics: ['org:membershipChanged'] });
