import type { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';
import { accessAtLeast, loadProjectRow, projectAccess, type Access } from '../threads/threads.access.ts';

export type { Access };

export interface InstanceRow {
  id: string;
  projectId: string;
  orgId: string;
}

/** The instance and its project's org, one query per operation however many instances are asked about. */
export function loadInstanceRow(ctx: Context, id: string): Promise<InstanceRow | null> {
  return ctx
    .loader<string, InstanceRow | null>('kvInstanceRow', async (ids) => {
      const rows = await db.kvInstance.findMany({ where: { id: { in: [...ids] } }, select: { id: true, projectId: true, project: { select: { orgId: true } } } });
      const byId = new Map(rows.map((r) => [r.id, { id: r.id, projectId: r.projectId, orgId: r.project.orgId }]));
      return ids.map((i) => byId.get(i) ?? null);
    })
    .load(id);
}

/** An instance's access is its project's: shares READ/WRITE/ADMIN, org API keys READ/WRITE. */
export async function instanceAccess(ctx: Context, instanceId: string): Promise<Access | null> {
  const row = await loadInstanceRow(ctx, instanceId);
  const project = row ? await loadProjectRow(ctx, row.projectId) : null;
  return project ? projectAccess(ctx, project) : null;
}

/** No access → NOT_FOUND (ids cannot be probed); too little → FORBIDDEN. */
export async function checkInstance(ctx: Context, instanceId: string, need: Access): Promise<true | GraphQLError> {
  if (ctx.viewer.kind === 'anonymous' || ctx.viewer.kind === 'session') return unauthenticated();
  const access = await instanceAccess(ctx, instanceId);
  if (!access) return notFound('KvInstance');
  return accessAtLeast(access, need) || forbidden(`Requires ${need} access to this KV instance`);
}

/** Like checkInstance, thrown: for services called from places shield does not cover (tools, subscriptions). */
export async function requireInstance(ctx: Context, instanceId: string, need: Access): Promise<Access> {
  const result = await checkInstance(ctx, instanceId, need);
  if (result !== true) throw result;
  return (await instanceAccess(ctx, instanceId))!;
}
