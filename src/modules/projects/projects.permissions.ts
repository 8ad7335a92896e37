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
      updateProject: isProjectAdminByInput,
      deleteProject: isProjectAdminByInput,
      shareProject: isProjectAdminByInput,
      unshareProject: isProjectAdminByInput,
      setProjectPublicAccess: isProjectAdminByInput,
    },
    Project: {
      '*': allow,
      shares: ruleOf('isProjectAdmin', (ctx, _a, p: { id: string }) => checkProject(ctx, p.id, 'ADMIN'), 'strict'),
      // Whatever path led to the project, its contents follow the viewer's access now.
      threads: canReadProjectContents,
    },
    ProjectShare: { '*': allow },
    DeleteProjectPayload: { '*': allow },
    UnshareProjectPayload: { '*': allow },
  },
  nodes: {
    Project: async (ctx, p) => !!(await projectAccess(ctx, p)),
    // A share is seen where Project.shares shows it: by the project's ADMINs.
    ProjectShare: async (ctx, s: { projectId: string }) => (await checkProject(ctx, s.projectId, 'ADMIN')) === true,
  },
};

