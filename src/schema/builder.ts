import SchemaBuilder, { RootFieldBuilder } from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { encodeGlobalID, resolveNodes } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.ts';
import { db } from '../db/client.ts';
import { notFound } from '../errors.ts';
import PrismaTypes, { getDatamodel } from '../generated/pothos-types.ts';

/**
 * Relay's `t.globalID` (every node's `id`) as a synchronous field when its value is at hand. The
 * plugin's own resolver is `async`, which turns each node of a result into a pending object in
 * graphql-js (a promise per node, a Promise.all per object): on a page of 400 messages with their
 * authors that was a large share of the execution and its garbage. Same output: `encodeGlobalID` of
 * the type's GraphQL name (this builder sets no custom encoder) and the id as a string.
 */
type GlobalIDValue = { type: unknown; id: unknown } | string | null | undefined;
const rootFieldProto = RootFieldBuilder.prototype as unknown as Record<string, unknown> & { builder: { configStore: { getTypeConfig(ref: unknown): { name: string } } } };
rootFieldProto.globalID = function globalID(
  this: typeof rootFieldProto & { field(options: object): unknown },
  { resolve, ...options }: { resolve: (...args: unknown[]) => GlobalIDValue | Promise<GlobalIDValue> },
) {
  const encode = (item: GlobalIDValue) =>
    !item || typeof item !== 'object' ? item : encodeGlobalID(this.builder.configStore.getTypeConfig(item.type).name, String(item.id));
  return this.field({
    ...options,
    type: 'ID',
    resolve: (...args: unknown[]) => {
      const result = resolve(...args);
      return result instanceof Promise ? result.then(encode) : encode(result as GlobalIDValue);
    },
  });
};

/** Largest page a connection returns, whatever `first`/`last` asks for. */
export const MAX_PAGE_SIZE = 100;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    /** A calendar day, `YYYY-MM-DD`. */
    Date: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Prisma first so its connection helpers can build on Relay's; dataloader for non-Prisma batching.
  plugins: [PrismaPlugin, RelayPlugin, DataloaderPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  prisma: {
    // A function, because the client is opened at start (by URL) after the schema is built.
    client: () => db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    maxConnectionSize: MAX_PAGE_SIZE,
    defaultConnectionSize: 20,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeFieldOptions: { nullable: false, description: 'The item at this position.' },
    edgesFieldOptions: { nullable: false, description: 'The items of this page, each with its cursor.' },
    // Descriptions of the Relay plumbing every node and connection shares (docs/api/conventions.md: everything is described).
    idFieldOptions: { description: 'Global ID: unique across the API, accepted by `node(id)`.' },
    nodeTypeOptions: { description: 'An object with a global ID, which `node(id)` and `nodes(ids)` look up.' },
    pageInfoTypeOptions: { description: 'Where a page sits in its list: whether there is more on either side, and the cursors to get it.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the list.' },
    hasNextPageFieldOptions: { description: 'More items follow this page: ask again with `after: endCursor`.' },
    hasPreviousPageFieldOptions: { description: 'More items precede this page: ask again with `before: startCursor`.' },
    startCursorFieldOptions: { description: "The first item's cursor; null on an empty page." },
    endCursorFieldOptions: { description: "The last item's cursor; null on an empty page." },
    cursorFieldOptions: { description: 'Opaque position of this item, for `after` or `before`.' },
    firstArgOptions: { description: 'At most this many items from the start (after `after`); capped at 100, 20 by default.' },
    lastArgOptions: { description: 'At most this many items from the end (before `before`); capped at 100.' },
    afterArgOptions: { description: 'Only items after this cursor (an `endCursor` or an edge\'s `cursor`).' },
    beforeArgOptions: { description: 'Only items before this cursor (a `startCursor` or an edge\'s `cursor`).' },
    defaultConnectionTypeOptions: { description: 'One page of a list (a Relay connection): its edges and where the page sits.' },
    defaultEdgeTypeOptions: { description: 'One item of a page and its cursor.' },
    // node(id)/nodes(ids) are authorized like the types they return: what the viewer may not see, or what does
    // not exist, is null with a NOT_FOUND error (the two look the same, so ids cannot be probed). Each id of
    // nodes(ids) resolves on its own, so one missing record nulls its own entry only.
    nodeQueryOptions: {
      description:
        'The object with this global ID. Null with a NOT_FOUND error when it does not exist or you may not see it (the two look the same).',
      args: { id: { description: 'A global ID, as any `id` field answers it.' } },
      resolve: (_root, { id }, ctx, info) => visibleNode(ctx, info, id),
    },
    nodesQueryOptions: {
      description:
        'The objects with these global IDs, in the same order. Each one that does not exist or that you may not see is null, with a NOT_FOUND error at its index.',
      args: { ids: { description: 'Global IDs, as `id` fields answer them.' } },
      resolve: (_root, { ids }, ctx, info) => ids.map((id) => visibleNode(ctx, info, id)),
    },
  },
});

/** Prisma's "record not found" (findUniqueOrThrow), the same code on both databases. */
const isRecordMissing = (err: unknown): boolean => (err as { code?: string })?.code === 'P2025';

/** One node by global id; NOT_FOUND when it does not exist or the viewer may not see it. */
async function visibleNode(ctx: Context, info: GraphQLResolveInfo, id: { id: string; typename: string }): Promise<unknown> {
  let node: unknown;
  try {
    [node] = await resolveNodes(builder, ctx, info, [id]);
  } catch (err) {
    if (!isRecordMissing(err)) throw err;
  }
  if (node && (await ctx.app.auth.canSeeNode(ctx, id.typename, node))) return node;
  throw notFound('Node');
}
