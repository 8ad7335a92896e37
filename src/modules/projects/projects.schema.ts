import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { projectAccess, readableProjectsWhere } from '../threads/threads.access.ts';
import { totalCountOf } from '../threads/total-count.ts';
import * as projects from './projects.service.ts';

export const ShareAccess = builder.enumType('ShareAccess', {
  description: 'What a share of a project allows; each level includes the ones before it.',
  values: {
    READ: { description: 'See the project and its threads.' },
    WRITE: { description: 'Also create threads in it and chat in them.' },
    ADMIN: { description: 'Also share it and manage its threads.' },
  },
});

export const ProjectRef = builder.prismaNode('Project', {
  description: 'A folder of threads (and KV instances) in an org, shared with some of its members or all of them.',
  id: { field: 'id', description: 'The global ID of the project.' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name, 1 to 200 characters.' }),
    description: t.exposeString('description', { nullable: true, description: 'What the project is for; null when not given.' }),
    publicAccess: t.expose('publicAccess', {
      type: ShareAccess,
      nullable: true,
      description: 'Access every member of the org has (the org-wide share); null when not shared org-wide.',
    }),
    viewerAccess: t.field({
      type: ShareAccess,
      nullable: true,
      description: 'Your access: the best of your role in the org, your share and the org-wide share (null for none).',
      resolve: (p, _args, ctx) => projectAccess(ctx, p),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the project was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the project was last renamed or re-described.' }),
    org: t.relation('org', { description: 'The org the project belongs to.' }),
    createdBy: t.relation('createdBy', { description: 'Who created the project (they manage it while they are in its org).' }),
    shares: t.relation('shares', {
      description: 'Per-user shares, oldest first (project ADMINs only: FORBIDDEN to others).',
      query: { orderBy: { createdAt: 'asc' } },
    }),
  }),
});

builder.prismaNode('ProjectShare', {
  description: "One member's access to a project.",
  id: { field: 'id', description: 'The global ID of the share.' },
  fields: (t) => ({
    project: t.relation('project', { description: 'The project shared.' }),
    user: t.relation('user', { description: 'The member it is shared with.' }),
    access: t.expose('access', { type: ShareAccess, description: 'What the share allows.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the project was first shared with this member.' }),
  }),
});

const ProjectConnection = builder.connectionObject(
  {
    type: ProjectRef,
    name: 'ProjectConnection',
    description: 'A page of projects.',
    fields: (t) => ({ totalCount: t.int({ description: 'How many projects the list holds across all pages.', resolve: totalCountOf }) }),
  },
  { name: 'ProjectEdge', description: 'A project in a page, with its cursor.' },
);

builder.prismaObjectField(ViewerRef, 'projects', (t) =>
  t.prismaConnection(
    {
      type: 'Project',
      cursor: 'id',
      description: 'Projects you may read, newest first.',
      totalCount: (user) => db.project.count({ where: readableProjectsWhere(user.id) }),
      resolve: (query, user) =>
        db.project.findMany({ ...query, where: readableProjectsWhere(user.id), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    ProjectConnection,
  ),
);

const PROJECT_ID = 'The project (NOT_FOUND when you cannot see it; FORBIDDEN below ADMIN access).';

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  description: 'A new project.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be a member; an API key needs the WRITE scope).' }),
    name: t.string({ required: true, description: 'The name, 1 to 200 characters.' }),
    description: t.string({ description: 'What the project is for, at most 5,000 characters.' }),
  }),
});
const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  description: 'Changes to a project; a field left out is kept.',
  fields: (t) => ({
    projectId: t.id({ required: true, description: PROJECT_ID }),
    name: t.string({ description: 'A new name, 1 to 200 characters.' }),
    description: t.string({ description: 'A new description; null clears it.' }),
  }),
});
const DeleteProjectInput = builder.inputType('DeleteProjectInput', {
  description: 'The project to delete.',
  fields: (t) => ({ projectId: t.id({ required: true, description: PROJECT_ID }) }),
});
const ShareProjectInput = builder.inputType('ShareProjectInput', {
  description: 'A member to share a project with, and how much.',
  fields: (t) => ({
    projectId: t.id({ required: true, description: PROJECT_ID }),
    userId: t.id({ required: true, description: "A member of the project's org (NOT_FOUND for anyone else)." }),
    access: t.field({ type: ShareAccess, required: true, description: 'What the share allows; sharing again replaces it.' }),
  }),
});
const UnshareProjectInput = builder.inputType('UnshareProjectInput', {
  description: "A member's share to remove.",
  fields: (t) => ({
    projectId: t.id({ required: true, description: PROJECT_ID }),
    userId: t.id({ required: true, description: 'The member whose share goes (NOT_FOUND when they have none).' }),
  }),
});
const SetProjectPublicAccessInput = builder.inputType('SetProjectPublicAccessInput', {
  description: 'Access for every member of the org at once (the org-wide share).',
  fields: (t) => ({
    projectId: t.id({ required: true, description: PROJECT_ID }),
    access: t.field({ type: ShareAccess, description: 'What every member of the org may do; null stops sharing org-wide.' }),
  }),
});

const DeleteProjectPayload = builder.simpleObject('DeleteProjectPayload', {
  description: 'What deleteProject removed.',
  fields: (f) => ({ deletedId: f.id({ description: 'The global ID of the deleted project: evict it (and its threads) from your cache.' }) }),
});
const UnshareProjectPayload = builder.objectRef<{ deletedId: string; projectId: string }>('UnshareProjectPayload').implement({
  description: 'What unshareProject removed, and the project it changed.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global ID of the removed ProjectShare: evict it from your cache.' }),
    project: t.prismaField({
      type: 'Project',
      description: 'The project, without the share.',
      resolve: (query, r) => db.project.findUniqueOrThrow({ ...query, where: { id: r.projectId } }),
    }),
  }),
});

const userIdOf = (v: unknown) => idOf(v, 'User', 'userId');

builder.queryFields((t) => ({
  project: t.prismaField({
    type: 'Project',
    nullable: true,
    description: 'A project by its ID; null with a NOT_FOUND error when it does not exist or you cannot read it.',
    args: { id: t.arg.id({ required: true, description: 'The global ID of the project.' }) },
    // The rule answers NOT_FOUND first for what the viewer cannot read; this covers a project deleted meanwhile.
    resolve: async (query, _root, args) => {
      const project = await db.project.findUnique({ ...query, where: { id: idOf(args.id, 'Project') } });
      if (!project) throw notFound('Project');
      return project;
    },
  }),
}));

builder.mutationFields((t) => ({
  createProject: t.prismaField({
    type: 'Project',
    description: 'Creates a project in an org; yours to manage.',
    args: { input: t.arg({ type: CreateProjectInput, required: true, description: 'The project.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = await projects.createProject(ctx, idOf(input.orgId, 'Org', 'orgId'), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
  updateProject: t.prismaField({
    type: 'Project',
    description: 'Renames or re-describes a project (project ADMINs).',
    args: { input: t.arg({ type: UpdateProjectInput, required: true, description: 'The project and its changes.' }) },
    resolve: async (query, _root, { input }) => {
      const p = await projects.updateProject(idOf(input.projectId, 'Project', 'projectId'), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
  deleteProject: t.field({
    type: DeleteProjectPayload,
    description:
      'Deletes the project, its threads (with their messages and sessions), its shares and its API keys (project ADMINs); the threads’ threadEvents streams get ThreadDeleted.',
    args: { input: t.arg({ type: DeleteProjectInput, required: true, description: 'The project.' }) },
    resolve: async (_root, { input }, ctx) => {
      await projects.deleteProject(ctx, idOf(input.projectId, 'Project', 'projectId'));
      return { deletedId: String(input.projectId) };
    },
  }),
  shareProject: t.prismaField({
    type: 'ProjectShare',
    description: 'Shares a project with a member of its org, or changes what their share allows (project ADMINs).',
    args: { input: t.arg({ type: ShareProjectInput, required: true, description: 'The project, the member and the access.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const share = await projects.shareProject(ctx, idOf(input.projectId, 'Project', 'projectId'), userIdOf(input.userId), input);
      return db.projectShare.findUniqueOrThrow({ ...query, where: { id: share.id } });
    },
  }),
  unshareProject: t.field({
    type: UnshareProjectPayload,
    description: "Removes a member's share (project ADMINs); their live streams of the project's threads end if that was their only access.",
    args: { input: t.arg({ type: UnshareProjectInput, required: true, description: 'The project and the member.' }) },
    resolve: async (_root, { input }, ctx) => {
      const projectId = idOf(input.projectId, 'Project', 'projectId');
      const share = await projects.unshareProject(ctx, projectId, userIdOf(input.userId));
      return { deletedId: encodeGlobalID('ProjectShare', share.id), projectId };
    },
  }),
  setProjectPublicAccess: t.prismaField({
    type: 'Project',
    description: "Sets (or, with null, removes) the access every member of the project's org has (project ADMINs).",
    args: { input: t.arg({ type: SetProjectPublicAccessInput, required: true, description: 'The project and the access.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = await projects.setPublicAccess(ctx, idOf(input.projectId, 'Project', 'projectId'), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
}));
