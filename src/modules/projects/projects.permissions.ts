import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, orgRule, ruleOf } from '../../auth/rules.ts';
import { checkProject, projectAccess } from '../threads/threads.access.ts';

const isProjectAdminByInput = ruleOf('isProjectAdminByInput', (ctx, args) =>
  checkProject(ctx, idOf(args.input.projectId, 'Project', 'projectId'), 'ADMIN'),
);

/** The viewer can read the parent project (its threads, its KV instances) at the time of asking. */
export const canReadProjectContents = ruleOf('canReadProjectContents', (ctx, _a, p: { id: string }) => checkProject(ctx, p.id, 'READ'), 'strict');

export const projectsPermissions: DomainPermissions = {
  rules: {
    Query: { project: ruleOf('canReadProject', (ctx, args) => checkProject(ctx, idOf(args.id, 'Project'), 'READ')) },
    Mutation: {
      createProject: orgRule('canCreateProject', (a) => a.input.orgId, { scope: 'WRITE' }),
      // Project ADMINs: org OWNERs and ADMINs, the project's creator, and ADMIN shares (threads.access).
      updateProject: ruleOf('canUpdateProject', (ctx, args) => checkProject(ctx, idOf(args.input.id, 'Project'), 'ADMIN')),
      deleteProject: ruleOf('canDeleteProject', (ctx, args) => checkProject(ctx, idOf(args.input.id, 'Project'), 'ADMIN')),
      shareProject: isProjectAdminByInput,
      unshare: isProjectAdminByInput,
    },
    Project: {
      '*': allow,
      shares: ruleOf('isProjectAdmin', (ctx, _a, p: { id: string }) => checkProject(ctx, p.id, 'ADMIN'), 'strict'),
      // Whatever path led to the project, its contents follow the viewer's access now.
      threads: canReadProjectContents,
    },
    ProjectShare: { '*': allow },
    DeleteProjectPayload: { '*': allow },
  },
  nodes: {
    Project: async (ctx, p) => !!(await projectAccess(ctx, p)),
  },
};

