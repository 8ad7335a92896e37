import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { projectAccess, readableProjectsWhere } from '../threads/threads.access.ts';
import * as projects from './projects.service.ts';

export const ShareAccess = builder.enumType('ShareAccess', {
  values: {
    READ: { description: 'See the project and its threads.' },
    WRITE: { description: 'Also create threads in it and chat in them.' },
    ADMIN: { description: 'Also share it and manage its threads.' },
  },
});

export const ProjectRef = builder.prismaNode('Project', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    publicAccess: t.expose('publicAccess', {
      type: ShareAccess,
      nullable: true,
      description: 'Access every member of the org has (the public share); null when not shared org-wide.',
    }),
    viewerAccess: t.field({
      type: ShareAccess,
      nullable: true,
      resolve: (p, _args, ctx) => projectAccess(ctx, p),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    org: t.relation('org'),
    createdBy: t.relation('createdBy'),
    shares: t.relation('shares', { description: 'Per-user shares (project ADMINs only).', query: { orderBy: { createdAt: 'asc' } } }),
    threads: t.relatedConnection('threads', { cursor: 'id', query: { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }] } }),
  }),
});

builder.prismaObject('ProjectShare', {
  fields: (t) => ({
    user: t.relation('user'),
    access: t.expose('access', { type: ShareAccess }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(ViewerRef, 'projects', (t) =>
  t.prismaConnection({
    type: 'Project',
    cursor: 'id',
    description: 'Projects you may read, newest first.',
    resolve: (query, user) =>
      db.project.findMany({ ...query, where: readableProjectsWhere(user.id), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), name: t.string({ required: true }), description: t.string() }),
});
const UpdateProjectInput = builder.inputType('UpdateProjectInput', {
  fields: (t) => ({ id: t.id({ required: true }), name: t.string(), description: t.string({ description: 'null clears it.' }) }),
});
const DeleteProjectInput = builder.inputType('DeleteProjectInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const ShareProjectInput = builder.inputType('ShareProjectInput', {
  fields: (t) => ({
    projectId: t.id({ required: true }),
    userId: t.id({ description: 'Share with this user…' }),
    public: t.boolean({ description: '…or with every member of the org.' }),
    access: t.field({ type: ShareAccess, required: true }),
  }),
});
const UnshareInput = builder.inputType('UnshareInput', {
  fields: (t) => ({ projectId: t.id({ required: true }), userId: t.id(), public: t.boolean() }),
});

const userIdOf = (v: unknown) => (v ? idOf(v, 'User', 'userId') : null);

builder.queryFields((t) => ({
  project: t.prismaField({
    type: 'Project',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args) => db.project.findUniqueOrThrow({ ...query, where: { id: idOf(args.id, 'Project') } }),
  }),
}));

builder.mutationFields((t) => ({
  createProject: t.prismaField({
    type: 'Project',
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = await projects.createProject(ctx, idOf(input.orgId, 'Org', 'orgId'), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
  updateProject: t.prismaField({
    type: 'Project',
    args: { input: t.arg({ type: UpdateProjectInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const p = await projects.updateProject(idOf(input.id, 'Project'), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
  deleteProject: t.field({
    type: builder.simpleObject('DeleteProjectPayload', { fields: (f) => ({ deletedId: f.id() }) }),
    description: 'Deletes the project, its threads (with their messages and sessions), its shares and its API keys.',
    args: { input: t.arg({ type: DeleteProjectInput, required: true }) },
    resolve: async (_root, { input }) => {
      await projects.deleteProject(idOf(input.id, 'Project'));
      return { deletedId: String(input.id) };
    },
  }),
  shareProject: t.prismaField({
    type: 'Project',
    args: { input: t.arg({ type: ShareProjectInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = await projects.shareProject(ctx, idOf(input.projectId, 'Project', 'projectId'), userIdOf(input.userId), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
  unshare: t.prismaField({
    type: 'Project',
    args: { input: t.arg({ type: UnshareInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const p = await projects.unshare(ctx, idOf(input.projectId, 'Project', 'projectId'), userIdOf(input.userId), input);
      return db.project.findUniqueOrThrow({ ...query, where: { id: p.id } });
    },
  }),
}));
