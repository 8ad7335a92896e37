import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { loadThreadRow, threadAccess } from './threads.access.ts';
import { linkThreads, unlinkThreads } from './relations.service.ts';

const RelationKind = builder.enumType('ThreadRelationKind', {
  values: {
    CONTINUES_FROM: { description: '`from` continues the conversation of `to`.' },
    CHILD_OF: { description: '`from` is a child of `to` (a hierarchy: no cycles).' },
    RELATES_TO: { description: 'A loose association.' },
  },
});

builder.prismaObject('ThreadRelation', {
  fields: (t) => ({
    kind: t.expose('kind', { type: RelationKind }),
    from: t.relation('from'),
    to: t.relation('to'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('Thread', 'relations', (t) =>
  t.prismaField({
    type: ['ThreadRelation'],
    description: 'Links from and to this thread, leaving out threads you may not read.',
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
  fields: (t) => ({
    fromId: t.id({ required: true }),
    toId: t.id({ required: true }),
    kind: t.field({ type: RelationKind, required: true }),
  }),
});

builder.mutationFields((t) => ({
  linkThreads: t.prismaField({
    type: 'ThreadRelation',
    args: { input: t.arg({ type: LinkThreadsInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const r = await linkThreads(idOf(input.fromId, 'Thread', 'fromId'), idOf(input.toId, 'Thread', 'toId'), input.kind);
      return db.threadRelation.findUniqueOrThrow({ ...query, where: { id: r.id } });
    },
  }),
  unlinkThreads: t.field({
    type: builder.simpleObject('UnlinkThreadsPayload', { fields: (f) => ({ removed: f.boolean() }) }),
    args: { input: t.arg({ type: LinkThreadsInput, required: true }) },
    resolve: async (_root, { input }) => ({
      removed: await unlinkThreads(idOf(input.fromId, 'Thread', 'fromId'), idOf(input.toId, 'Thread', 'toId'), input.kind),
    }),
  }),
}));
