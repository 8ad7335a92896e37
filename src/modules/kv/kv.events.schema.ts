import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { checkInstance } from './kv.access.ts';
import { kvKeyGlobalId, KvKeyRef } from './kv.schema.ts';
import { kvEventFeed } from './kv.stream.ts';
import { KV_EVENT_TYPES, type KvEvent } from './kv.topics.ts';

const common = (t: any): Record<string, any> => ({
  version: t.int({ resolve: (e: KvEvent) => e.version, description: 'The instance version of this change; resume after it with `afterVersion`.' }),
  at: t.field({ type: 'DateTime', resolve: (e: KvEvent) => new Date(e.at), description: 'When the change was committed.' }),
});

const KvKeyUpdated = builder.objectRef<KvEvent>('KvKeyUpdated').implement({
  description: 'A key was created or changed; `key` is its state after the change.',
  fields: (t) => ({ ...common(t), key: t.field({ type: KvKeyRef, description: 'The key after the change.', resolve: (e) => e.key! }) }),
});
const KvKeyDeleted = builder.objectRef<KvEvent>('KvKeyDeleted').implement({
  description: 'A key was deleted.',
  fields: (t) => ({
    ...common(t),
    deletedId: t.id({ description: 'The global id of the deleted key (KvKey.id), to evict from a client cache.', resolve: (e) => kvKeyGlobalId(e.instanceId, e.name!) }),
    name: t.string({ description: 'The name of the deleted key.', resolve: (e) => e.name! }),
  }),
});
const KvInstanceCleared = builder.objectRef<KvEvent>('KvInstanceCleared').implement({
  description: 'Every key of the instance was removed (clearKvInstance); the instance stays.',
  fields: (t) => ({ ...common(t) }),
});

/** The stored kinds (the event log's `kind` column and outbound webhooks keep them) and their GraphQL types. */

const KvEventUnion = builder.unionType('KvEvent', {
  description: 'One change of a KV instance, as kvEvents delivers it.',
  types: [KvKeyUpdated, KvKeyDeleted, KvInstanceCleared],
  resolveType: (e) => KV_EVENT_TYPES[(e as KvEvent).kind],
});

const kvInstanceIdOf = (v: unknown) => idOf(v, 'KvInstance', 'kvInstanceId');

builder.subscriptionFields((t) => ({
  kvEvents: t.field({
    type: KvEventUnion,
    description:
      'Changes of a KV instance. With `afterVersion`, every change after it comes first (from the event log), then live ones, with no gap and no duplicate. Needs READ access: without it the stream does not start (NOT_FOUND, or UNAUTHENTICATED when signed out), and it ends with an error once the viewer loses that access.',
    args: {
      kvInstanceId: t.arg.id({ required: true, description: 'The KV instance to follow.' }),
      afterVersion: t.arg.int({ description: 'Replay the stored changes after this version first (0: from the start). BAD_USER_INPUT when negative. Without it, only live changes.' }),
    },
    subscribe: authorizedSubscribe<{ kvInstanceId: unknown; afterVersion?: number | null }, KvEvent>(
      (ctx, args) =>
        args.afterVersion != null && args.afterVersion < 0
          ? badInput('afterVersion: must be 0 or more', 'afterVersion')
          : checkInstance(ctx, kvInstanceIdOf(args.kvInstanceId), 'READ'),
      (args, ctx) => kvEventFeed(ctx.app, kvInstanceIdOf(args.kvInstanceId), args.afterVersion),
      // The project's org-wide access may be taken back: watch the project too, not only the viewer.
      {
        watch: async (args) => {
          const instance = await db.kvInstance.findUnique({ where: { id: kvInstanceIdOf(args.kvInstanceId) }, select: { projectId: true } });
          return instance ? [`project:${instance.projectId}`] : [];
        },
      },
    ),
    resolve: (event) => event as any,
  }),
}));
