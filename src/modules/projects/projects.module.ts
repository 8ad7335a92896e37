import { defineModule } from '../../app-module.ts';
import { projectsPermissions } from './projects.permissions.ts';
import './projects.schema.ts';

/** Projects: an org's threads grouped, with org-wide access and shares per user. */
export const projectsModule = defineModule({ name: 'projects', permissions: projectsPermissions });
