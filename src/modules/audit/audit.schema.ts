import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';

/** The users who acted, batched over a page of entries. */
function actorById(ctx: Context, id: string) {
  return ctx
    .loader<string, any>('auditActorById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((i) => byId.get(i) ?? null);
    })
    .load(id);
}

builder.prismaNode('AuditEntry', {
  description:
    "One moderation or admin action in an org, as `Org.auditLog` lists it: who did what to what, and when. Entries are never changed or deleted (but with their org). Visible to the org's OWNERs and ADMINs.",
  id: { field: 'id', description: 'The global ID of the entry.' },
  fields: (t) => ({
    action: t.exposeString('action', {
      description: 'What was done, as `<area>.<object>.<verb>`: `room.archive`, `room.message.pin`, `room.member.ban`... (docs/api/moderation.md lists them).',
    }),
    actor: t.field({
      type: UserRef,
      nullable: true,
      description: 'The person who acted (also when through an ACT_AS API key: see `apiKeyId`); null when the server itself acted, an API key acted as the org, or the account is gone.',
      resolve: (e, _args, ctx) => (e.actorId ? actorById(ctx, e.actorId) : null),
    }),
    apiKeyId: t.id({
      nullable: true,
      description: 'The global ID of the API key the action came through; null when a person acted with their own login.',
      resolve: (e) => (e.apiKeyId ? encodeGlobalID('ApiKey', e.apiKeyId) : null),
    }),
    targetType: t.exposeString('targetType', { description: 'The type of what was acted on: `Room`, `RoomMessage`, `User`, `Report`, `Org`.' }),
    targetId: t.id({
      description: 'The global ID of what was acted on (it may no longer exist: a deleted room, for instance).',
      resolve: (e) => encodeGlobalID(e.targetType, e.targetId),
    }),
    data: t.expose('data', {
      type: 'JSON',
      nullable: true,
      description: "The action's details (for `room.delete`: the room's name, type, memberCount and messageCount); null when it has none.",
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was done.' }),
  }),
});

/** `targetId`: any global ID; it names both the type and the row. */
function targetOf(value: unknown): { targetType: string; targetId: string } {
  try {
    const { typename, id } = decodeGlobalID(String(value));
    if (typename && id) return { targetType: typename, targetId: id };
  } catch {
    // Reported below.
  }
  throw badInput('targetId is not a valid ID', 'targetId');
}

builder.prismaObjectField('Org', 'auditLog', (t) =>
  t.relatedConnection(
    'auditEntries',
    {
      cursor: 'id',
      description: "The org's audit log, newest first, optionally narrowed by action, actor and target. Only the org's OWNERs and ADMINs may read it (FORBIDDEN for other members).",
      args: {
        action: t.arg.string({ description: 'Only entries of this action, such as `room.delete`.' }),
        actorId: t.arg.id({ description: 'Only what this user did (a global User ID).' }),
        targetId: t.arg.id({ description: 'Only what was done to this object (any global ID).' }),
      },
      query: (args) => ({
        where: {
          ...(args.action != null ? { action: args.action } : {}),
          ...(args.actorId != null ? { actorId: idOf(args.actorId, 'User', 'actorId') } : {}),
          ...(args.targetId != null ? targetOf(args.targetId) : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      }),
    },
    { name: 'AuditEntryConnection', description: 'A page of audit log entries.', edgesField: { description: 'The entries of this page, newest first.' } },
    { name: 'AuditEntryEdge', description: 'An audit log entry and its cursor.', nodeField: { description: 'The entry.' } },
  ),
);
