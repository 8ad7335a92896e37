import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { searchMessages, type SearchHit } from './search.service.ts';

const SearchHitKind = builder.enumType('SearchHitKind', { values: ['THREAD_MESSAGE', 'ROOM_MESSAGE'] as const });

const SearchHitRef = builder.objectRef<SearchHit>('SearchHit').implement({
  description: 'A message matching a search, with the matching passage highlighted.',
  fields: (t) => ({
    kind: t.field({ type: SearchHitKind, resolve: (h) => h.kind }),
    score: t.exposeFloat('score', { description: 'Higher is a better match (comparable within one search).' }),
    highlight: t.exposeString('highlight', { description: 'The matching passage, matches wrapped in <mark>…</mark>.' }),
    message: t.prismaField({
      type: 'Message',
      nullable: true,
      description: 'The thread message (THREAD_MESSAGE hits).',
      resolve: (query, h) => (h.kind === 'THREAD_MESSAGE' ? db.message.findUnique({ ...query, where: { id: h.id } }) : null),
    }),
    roomMessage: t.prismaField({
      type: 'RoomMessage',
      nullable: true,
      description: 'The room message (ROOM_MESSAGE hits).',
      resolve: (query, h) => (h.kind === 'ROOM_MESSAGE' ? db.roomMessage.findUnique({ ...query, where: { id: h.id } }) : null),
    }),
  }),
});

builder.queryFields((t) => ({
  searchMessages: t.field({
    type: [SearchHitRef],
    description: 'Full-text search over the thread and room messages you may read in an org, best matches first.',
    args: {
      query: t.arg.string({ required: true }),
      orgId: t.arg.id({ required: true }),
      first: t.arg.int({ defaultValue: 20, description: 'At most 50.' }),
    },
    resolve: (_root, args, ctx) => searchMessages(ctx, idOf(args.orgId, 'Org', 'orgId'), args.query, args.first ?? 20),
  }),
}));
