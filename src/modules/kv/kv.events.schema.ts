import { authorizedSubscribe, idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { checkInstance } from './kv.access.ts';
import { KvKeyRef } from './kv.schema.ts';
import { kvEventFeed } from './kv.stream.ts';
import type { KvEvent } from './kv.topics.ts';

const common = (t: any): Record<string, any> => ({
  version: t.int({ resolve: (e: KvEvent) => e.version, description: 'The instance version of this change; resume after it with `afterVersion`.' }),
  at: t.field({ type: 'DateTime', resolve: (e: KvEvent) => new Date(e.at) }),
});

const KeyUpdated = builder.objectRef<KvEvent>('KeyUpdated').implement({
  description: 'A key was created or changed; `key` is its state after the change.',
  fields: (t) => ({ ...common(t), key: t.field({ type: KvKeyRef, resolve: (e) => e.key! }) }),
});
const KeyDeleted = builder.objectRef<KvEvent>('KeyDeleted').implement({
  fields: (t) => ({ ...common(t), name: t.string({ resolve: (e) => e.name! }) }),
});
const Cleared = builder.objectRef<KvEvent>('Cleared').implement({
  description: 'Every key of the instance was removed.',
  fields: (t) => ({ ...common(t) }),
});

const KvEventUnion = builder.unionType('KvEvent', {
  types: [KeyUpdated, KeyDeleted, Cleared],
  resolveType: (e) => (e as KvEvent).kind,
});

builder.subscriptionFields((t) => ({
  kvEvents: t.field({
    type: KvEventUnion,
    description:
      'Changes of a KV instance. With `afterVersion`, every change after it comes first (from the event log), then live ones, with no gap and no duplicate.',
    args: { instanceId: t.arg.id({ required: true }), afterVersion: t.arg.int() },
    subscribe: authorizedSubscribe<{ instanceId: unknown; afterVersion?: number | null }, KvEvent>(
      (ctx, args) =>
        args.afterVersion != null && args.afterVersion < 0
          ? badInput('afterVersion: must be 0 or more', 'afterVersion')
          : checkInstance(ctx, idOf(args.instanceId, 'KvInstance', 'instanceId'), 'READ'),
      (args, ctx) => kvEventFeed(ctx.app, idOf(args.instanceId, 'KvInstance', 'instanceId'), args.afterVersion),
      // The project's org-wide access may be taken back: watch the project too, not only the viewer.
      {
        watch: async (args) => {
          const instance = await db.kvInstance.findUnique({ where: { id: idOf(args.instanceId, 'KvInstance', 'instanceId') }, select: { projectId: true } });
          return instance ? [`project:${instance.projectId}`] : [];
        },
      },
    ),
    resolve: (event) => event as any,
  }),
}));
