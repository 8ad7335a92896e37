import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { loadThreadRow, threadAccess } from './threads.access.ts';
import { linkThreads, unlinkThreads } from './relations.service.ts';

const RelationKind = builder.enumType('ThreadRelationKind', {
  description: 'How two threads are linked.',
  values: {
    CONTINUES_FROM: { description: '`from` continues the conversation of `to`.' },
    CHILD_OF: { description: '`from` is a child of `to` (a hierarchy: no cycles).' },
    RELATES_TO: { description: 'A loose association.' },
  },
});

builder.prismaNode('ThreadRelation', {
  description: 'A link from one thread to another of the same org.',
  id: { field: 'id', description: 'The global ID of the link.' },
  fields: (t) => ({
    kind: t.expose('kind', { type: RelationKind, description: 'How `from` relates to `to`.' }),
    from: t.relation('from', { description: 'The thread the link starts at.' }),
    to: t.relation('to', { description: 'The thread the link points to.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the link was made.' }),
  }),
});

builder.prismaObjectField('Thread', 'relations', (t) =>
  t.prismaField({
    type: ['ThreadRelation'],
    description: 'Links from and to this thread, oldest first, leaving out threads you may not read.',
    resolve: async (query, thread, _args, ctx) => {
      const rows = await db.threadRelation.findMany({
        ...query,
        where: { OR: [{ fromId: thread.id }, { toId: thread.id }] },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      });
      const visible = await Promise.all(
        rows.map(async (r) => {
          const other = await loadThreadRow(ctx, r.fromId === thread.id ? r.toId : r.fromId);
          return !!other && !!(await threadAccess(ctx, other));
        }),
      );
      return rows.filter((_, i) => visible[i]);
    },
  }),
);

const LinkThreadsInput = builder.inputType('LinkThreadsInput', {
  description: 'A link to make from one thread to another.',
  fields: (t) => ({
    fromThreadId: t.id({ required: true, description: 'The thread the link starts at (WRITE access needed).' }),
    toThreadId: t.id({ required: true, description: 'The thread it points to, in the same org (READ access needed; BAD_USER_INPUT for the same thread or another org).' }),
    kind: t.field({ type: RelationKind, required: true, description: 'How they relate; a CHILD_OF that would make a cycle is a CONFLICT.' }),
  }),
});
const UnlinkThreadsInput = builder.inputType('UnlinkThreadsInput', {
  description: 'The link to remove.',
  fields: (t) => ({
    threadRelationId: t.id({ required: true, description: 'The link (WRITE access to its `from` thread needed; NOT_FOUND when it is gone or hidden).' }),
  }),
});
const UnlinkThreadsPayload = builder.objectRef<{ deletedId: string; fromId: string; toId: string }>('UnlinkThreadsPayload').implement({
  description: 'What unlinkThreads removed, and the threads it linked.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global ID of the removed ThreadRelation: evict it from your cache.' }),
    from: t.prismaField({
      type: 'Thread',
      description: 'The thread the link started at.',
      resolve: (query, r) => db.thread.findUniqueOrThrow({ ...query, where: { id: r.fromId } }),
    }),
    to: t.prismaField({
      type: 'Thread',
      description: 'The thread the link pointed to.',
      resolve: (query, r) => db.thread.findUniqueOrThrow({ ...query, where: { id: r.toId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  linkThreads: t.prismaField({
    type: 'ThreadRelation',
    description: 'Links one thread to another of the same org; linking twice returns the existing link.',
    args: { input: t.arg({ type: LinkThreadsInput, required: true, description: 'The two threads and how they relate.' }) },
    resolve: async (query, _root, { input }) => {
      const r = await linkThreads(idOf(input.fromThreadId, 'Thread', 'fromThreadId'), idOf(input.toThreadId, 'Thread', 'toThreadId'), input.kind);
      return db.threadRelation.findUniqueOrThrow({ ...query, where: { id: r.id } });
    },
  }),
  unlinkThreads: t.field({
    type: UnlinkThreadsPayload,
    description: 'Removes a link between two threads.',
    args: { input: t.arg({ type: UnlinkThreadsInput, required: true, description: 'The link.' }) },
    resolve: async (_root, { input }) => {
      const r = await unlinkThreads(idOf(input.threadRelationId, 'ThreadRelation', 'threadRelationId'));
      return { deletedId: String(input.threadRelationId), fromId: r.fromId, toId: r.toId };
    },
  }),
}));
