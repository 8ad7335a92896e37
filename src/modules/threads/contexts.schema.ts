import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { ContextNode } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import * as contexts from './contexts.service.ts';

const nodeOrder = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

builder.prismaNode('ContextNode', {
  id: { field: 'id' },
  fields: (t) => ({
    kind: t.exposeString('kind'),
    title: t.exposeString('title'),
    content: t.exposeString('content'),
    tags: t.stringList({ resolve: (n) => (n.tags as string[]) ?? [], description: '`system-prompt` puts the node into the system prompt.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    parent: t.relation('parent', { nullable: true }),
    // One query per tree level, however many nodes the level holds.
    children: t.prismaField({
      type: ['ContextNode'],
      resolve: (_query, n, _args, ctx) =>
        ctx
          .loader<string, ContextNode[]>('contextChildren', async (ids) => {
            const rows = await db.contextNode.findMany({ where: { parentId: { in: [...ids] } }, orderBy: nodeOrder });
            return ids.map((id) => rows.filter((r) => r.parentId === id));
          })
          .load(n.id),
    }),
  }),
});

builder.prismaObjectField('Thread', 'contexts', (t) =>
  t.relation('contexts', { description: 'The roots of the context tree (follow `children`).', query: { where: { parentId: null }, orderBy: nodeOrder } }),
);

const AddContextNodeInput = builder.inputType('AddContextNodeInput', {
  fields: (t) => ({
    threadId: t.id({ required: true }),
    parentId: t.id(),
    kind: t.string({ required: true }),
    title: t.string(),
    content: t.string({ required: true }),
    tags: t.stringList(),
  }),
});
const UpdateContextNodeInput = builder.inputType('UpdateContextNodeInput', {
  fields: (t) => ({ id: t.id({ required: true }), kind: t.string(), title: t.string(), content: t.string(), tags: t.stringList() }),
});
const RemoveContextNodeInput = builder.inputType('RemoveContextNodeInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

builder.mutationFields((t) => ({
  addContextNode: t.prismaField({
    type: 'ContextNode',
    args: { input: t.arg({ type: AddContextNodeInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const parentId = input.parentId ? idOf(input.parentId, 'ContextNode', 'parentId') : null;
      const n = await contexts.addContextNode(idOf(input.threadId, 'Thread', 'threadId'), parentId, drop({ ...input, threadId: null, parentId: null }));
      return db.contextNode.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
  updateContextNode: t.prismaField({
    type: 'ContextNode',
    args: { input: t.arg({ type: UpdateContextNodeInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const n = await contexts.updateContextNode(idOf(input.id, 'ContextNode'), drop({ ...input, id: null }));
      return db.contextNode.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
  removeContextNode: t.field({
    type: builder.simpleObject('RemoveContextNodePayload', { fields: (f) => ({ removedIds: f.idList() }) }),
    args: { input: t.arg({ type: RemoveContextNodeInput, required: true }) },
    resolve: async (_root, { input }) => {
      const ids = await contexts.removeContextNode(idOf(input.id, 'ContextNode'));
      return { removedIds: ids.map((id) => encodeGlobalID('ContextNode', id)) };
    },
  }),
}));
