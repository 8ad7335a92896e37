import SchemaBuilder, { RootFieldBuilder } from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { encodeGlobalID, resolveNodes } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.ts';
import { db } from '../db/client.ts';
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
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // node(id)/nodes(ids) are authorized like the types they return: what the viewer may not see, or
    // what does not exist, is null. Each id of nodes(ids) resolves on its own, so one missing record
    // (Prisma's findUniqueOrThrow rejects) cannot null the whole list.
    nodeQueryOptions: {
      resolve: (_root, { id }, ctx, info) => visibleNode(ctx, info, id),
    },
    nodesQueryOptions: {
      resolve: (_root, { ids }, ctx, info) => ids.map((id) => visibleNode(ctx, info, id)),
    },
  },
});

/** Prisma's "record not found" (findUniqueOrThrow), the same code on both databases. */
const isRecordMissing = (err: unknown): boolean => (err as { code?: string })?.code === 'P2025';

/** One node by global id: null when it does not exist or the viewer may not see it. */
async function visibleNode(ctx: Context, info: GraphQLResolveInfo, id: { id: string; typename: string }): Promise<unknown> {
  try {
    const [node] = await resolveNodes(builder, ctx, info, [id]);
    return node && (await ctx.app.auth.canSeeNode(ctx, id.typename, node)) ? node : null;
  } catch (err) {
    if (isRecordMissing(err)) return null;
    throw err;
  }
}
