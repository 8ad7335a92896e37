import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { canSeeNode } from '../auth/permissions.ts';
import type { Context } from '../context.ts';
import { db } from '../db.ts';
import PrismaTypes, { getDatamodel } from '../generated/pothos-types.ts';

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
    // node(id)/nodes(ids) are authorized like the types they return: what the viewer may not see is null.
    nodeQueryOptions: {
      resolve: async (_root, { id }, ctx, _info, resolveNode) => {
        const node = await resolveNode(id);
        return node && (await canSeeNode(ctx, id.typename, node)) ? node : null;
      },
    },
    nodesQueryOptions: {
      resolve: async (_root, { ids }, ctx, _info, resolveNodes) => {
        const nodes = await resolveNodes(ids);
        return Promise.all(
          nodes.map(async (node, i) => (node && (await canSeeNode(ctx, ids[i].typename, node)) ? node : null)),
        );
      },
    },
  },
});
