import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import type { Message, RoomMessage } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { ThreadMessageRef } from '../threads/thread-messages.schema.ts';
import { RoomMessageRef } from '../rooms/messages.schema.ts';
import { MAX_PAGE, POOL, searchMessages, type SearchHit } from './search.service.ts';

/** A hit's message row: a room message has a seq, a thread message has none. */
type Found = Message | RoomMessage;

const SearchResult = builder.unionType('SearchResult', {
  description: 'A message that search found: a room message or a thread message.',
  types: [RoomMessageRef, ThreadMessageRef],
  // Both kinds have a seq now: a room message is the one with a room.
  resolveType: (row) => ('roomId' in row ? RoomMessageRef : ThreadMessageRef),
});

/** The messages of one page, in two queries (one per kind); a message deleted since the search is left out. */
async function messagesOf(hits: SearchHit[]): Promise<Map<string, Found>> {
  const ids = (kind: SearchHit['kind']) => hits.filter((h) => h.kind === kind).map((h) => h.id);
  const [threadIds, roomIds] = [ids('THREAD_MESSAGE'), ids('ROOM_MESSAGE')];
  const [threadRows, roomRows] = await Promise.all([
    threadIds.length ? db.message.findMany({ where: { id: { in: threadIds } } }) : [],
    roomIds.length ? db.roomMessage.findMany({ where: { id: { in: roomIds }, deletedAt: null } }) : [],
  ]);
  return new Map<string, Found>([...threadRows, ...roomRows].map((row) => [row.id, row]));
}

builder.queryFields((t) => ({
  searchMessages: t.connection(
    {
      type: SearchResult,
      description:
        `Full-text search over the thread and room messages you may read in an org, best matches first: messages holding every word of the query (deleted room messages and unfinished replies left out). A page holds at most ${MAX_PAGE} hits (20 by default); paging with after/before reaches the best ${POOL} of each kind. A cursor keeps its place for the same query. NOT_FOUND outside the org; BAD_USER_INPUT for a query without words, a negative first/last or a cursor that is not this search's.`,
      args: {
        query: t.arg.string({ required: true, description: 'Words to find (letters and digits; everything else separates words). BAD_USER_INPUT when it holds none.' }),
        orgId: t.arg.id({ required: true, description: 'The org to search in: you must be a member, or an API key of the org with READ.' }),
      },
      resolve: async (_root, args, ctx: Context) => {
        const page = await searchMessages(ctx, idOf(args.orgId, 'Org', 'orgId'), args.query, args);
        const found = await messagesOf(page.hits);
        const edges = page.hits.flatMap((h) => {
          const node = found.get(h.id);
          return node ? [{ cursor: h.cursor, node, score: h.score, highlight: h.highlight }] : [];
        });
        return {
          edges,
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: page.hasPreviousPage,
            startCursor: page.hits[0]?.cursor ?? null,
            endCursor: page.hits.at(-1)?.cursor ?? null,
          },
        };
      },
    },
    {
      name: 'SearchResultConnection',
      description: 'A page of search hits, best first.',
      edgesField: { description: 'The hits of this page, best first.' },
    },
    {
      name: 'SearchResultEdge',
      description: 'One search hit: the message, how well it matched and the passage that matched.',
      nodeField: { description: 'The message found.' },
      fields: (e) => ({
        score: e.float({ description: 'Higher is a better match (comparable within one search only).', resolve: (edge) => (edge as unknown as { score: number }).score }),
        highlight: e.string({
          description: 'The passage around the first match (up to 16 words, … where it was cut), each matching word wrapped in <mark>…</mark>. Plain text otherwise: escape it before rendering the marks as HTML.',
          resolve: (edge) => (edge as unknown as { highlight: string }).highlight,
        }),
      }),
    },
  ),
}));
