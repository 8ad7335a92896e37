import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { ContextNode } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import * as contexts from './contexts.service.ts';

const nodeOrder = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];

builder.prismaNode('ContextNode', {
  description: "A piece of a thread's context (notes, documents, instructions), in a tree; those tagged `system-prompt` make up the model's system prompt.",
  id: { field: 'id', description: 'The global ID of the node.' },
  fields: (t) => ({
    kind: t.exposeString('kind', { description: 'What the node is, in your own words (`note`, `document`…), 1 to 50 characters.' }),
    title: t.exposeString('title', { description: 'A title, at most 200 characters (may be empty).' }),
    content: t.exposeString('content', { description: 'The text, at most 50,000 characters.' }),
    tags: t.stringList({
      resolve: (n) => (n.tags as string[]) ?? [],
      description: 'Labels, at most 20; `system-prompt` puts the node into the system prompt (parents before children).',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the node was added.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the node last changed.' }),
    parent: t.relation('parent', { nullable: true, description: 'The node above this one; null for a root.' }),
    // One query per tree level, however many nodes the level holds.
    children: t.prismaField({
      type: ['ContextNode'],
      description: 'The nodes below this one, oldest first.',
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
  t.relation('contexts', { description: 'The roots of the context tree, oldest first (follow `children`).', query: { where: { parentId: null }, orderBy: nodeOrder } }),
);

const AddContextNodeInput = builder.inputType('AddContextNodeInput', {
  description: 'A context node to add to a thread.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: 'The thread (WRITE access needed; NOT_FOUND when you cannot see it).' }),
    parentContextNodeId: t.id({ description: 'The node to add it under (BAD_USER_INPUT when it is of another thread); a root when left out.' }),
    kind: t.string({ required: true, description: 'What the node is, 1 to 50 characters.' }),
    title: t.string({ description: 'A title, at most 200 characters.' }),
    content: t.string({ required: true, description: 'The text, at most 50,000 characters.' }),
    tags: t.stringList({ description: 'Labels, at most 20 of 1 to 50 characters; `system-prompt` puts the node into the system prompt.' }),
  }),
});
const UpdateContextNodeInput = builder.inputType('UpdateContextNodeInput', {
  description: 'Changes to a context node; a field left out is kept.',
  fields: (t) => ({
    contextNodeId: t.id({ required: true, description: 'The node (WRITE access to its thread needed).' }),
    kind: t.string({ description: 'What the node is, 1 to 50 characters.' }),
    title: t.string({ description: 'A title, at most 200 characters.' }),
    content: t.string({ description: 'The text, at most 50,000 characters.' }),
    tags: t.stringList({ description: 'Replaces the labels.' }),
  }),
});
const RemoveContextNodeInput = builder.inputType('RemoveContextNodeInput', {
  description: 'The context node to remove, with everything below it.',
  fields: (t) => ({ contextNodeId: t.id({ required: true, description: 'The node (WRITE access to its thread needed).' }) }),
});
const RemoveContextNodePayload = builder.objectRef<{ ids: string[]; threadId: string }>('RemoveContextNodePayload').implement({
  description: 'What removeContextNode removed, and the thread it changed.',
  fields: (t) => ({
    deletedId: t.id({ description: 'The global ID of the node removed.', resolve: (r) => encodeGlobalID('ContextNode', r.ids[0]) }),
    deletedIds: t.idList({
      description: 'The global IDs of every node removed: that node and all below it, to evict from your cache.',
      resolve: (r) => r.ids.map((id) => encodeGlobalID('ContextNode', id)),
    }),
    thread: t.prismaField({
      type: 'Thread',
      description: 'The thread, with its context tree as it is now.',
      resolve: (query, r) => db.thread.findUniqueOrThrow({ ...query, where: { id: r.threadId } }),
    }),
  }),
});

const drop = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));

builder.mutationFields((t) => ({
  addContextNode: t.prismaField({
    type: 'ContextNode',
    description: "Adds a node to a thread's context tree.",
    args: { input: t.arg({ type: AddContextNodeInput, required: true, description: 'The thread and the node.' }) },
    resolve: async (query, _root, { input }) => {
      const parentId = input.parentContextNodeId ? idOf(input.parentContextNodeId, 'ContextNode', 'parentContextNodeId') : null;
      const n = await contexts.addContextNode(idOf(input.threadId, 'Thread', 'threadId'), parentId, drop({ ...input, threadId: null, parentContextNodeId: null }));
      return db.contextNode.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
  updateContextNode: t.prismaField({
    type: 'ContextNode',
    description: 'Changes a context node.',
    args: { input: t.arg({ type: UpdateContextNodeInput, required: true, description: 'The node and its changes.' }) },
    resolve: async (query, _root, { input }) => {
      const n = await contexts.updateContextNode(idOf(input.contextNodeId, 'ContextNode', 'contextNodeId'), drop({ ...input, contextNodeId: null }));
      return db.contextNode.findUniqueOrThrow({ ...query, where: { id: n.id } });
    },
  }),
  removeContextNode: t.field({
    type: RemoveContextNodePayload,
    description: 'Removes a context node and everything below it.',
    args: { input: t.arg({ type: RemoveContextNodeInput, required: true, description: 'The node.' }) },
    resolve: (_root, { input }) => contexts.removeContextNode(idOf(input.contextNodeId, 'ContextNode', 'contextNodeId')),
  }),
}));
