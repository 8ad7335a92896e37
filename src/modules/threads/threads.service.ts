import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db, type Prisma } from '../../db.ts';
import { badInput, forbidden, notFound, parseInput } from '../../errors.ts';
import { checkProject, readableThreadsWhere } from './threads.access.ts';

const title = z.string().trim().min(1, 'is required').max(200);
const createInput = z.object({ title, metadata: z.unknown().optional() });
const updateInput = z.object({
  title: title.optional(),
  status: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  metadata: z.unknown().optional(),
});

/** A thread in an org, optionally in a project of that org (which needs WRITE access to the project). */
export async function createThread(ctx: Context, orgId: string, projectId: string | null, input: unknown) {
  const data = parseInput(createInput, input);
  const createdById = actingUserId(ctx.viewer);
  if (!createdById) throw forbidden();
  if (projectId) {
    const project = await db.project.findUnique({ where: { id: projectId }, select: { orgId: true } });
    if (!project) throw notFound('Project');
    if (project.orgId !== orgId) throw badInput('The project belongs to another org', 'projectId');
    const ok = await checkProject(ctx, projectId, 'WRITE');
    if (ok !== true) throw ok;
  }
  return db.thread.create({
    data: { orgId, projectId, createdById, title: data.title, metadata: (data.metadata ?? undefined) as Prisma.InputJsonValue | undefined },
  });
}

export async function updateThread(threadId: string, input: unknown) {
  const data = parseInput(updateInput, input);
  return db.thread.update({
    where: { id: threadId },
    data: {
      ...(data.title !== undefined ? { title: data.title } : {}),
      ...(data.status ? { status: data.status } : {}),
      ...(data.metadata !== undefined ? { metadata: data.metadata as Prisma.InputJsonValue } : {}),
    },
  });
}

export async function deleteThread(threadId: string) {
  await db.thread.delete({ where: { id: threadId } });
}

export interface ThreadFilter {
  projectId?: string | null;
  status?: 'ACTIVE' | 'ARCHIVED' | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
}

/** `me.threads`: what the user may read, narrowed by the filter. Bounds are exclusive. */
export function threadsWhere(userId: string, f: ThreadFilter = {}): Prisma.ThreadWhereInput {
  const range = (after?: Date | null, before?: Date | null) =>
    after || before ? { ...(after ? { gt: after } : {}), ...(before ? { lt: before } : {}) } : undefined;
  return {
    AND: [
      readableThreadsWhere(userId),
      {
        ...(f.projectId ? { projectId: f.projectId } : {}),
        ...(f.status ? { status: f.status } : {}),
        ...(range(f.createdAfter, f.createdBefore) ? { createdAt: range(f.createdAfter, f.createdBefore) } : {}),
        ...(range(f.updatedAfter, f.updatedBefore) ? { updatedAt: range(f.updatedAfter, f.updatedBefore) } : {}),
      },
    ],
  };
}

export function threadsOrder(order?: { field: 'CREATED_AT' | 'UPDATED_AT'; direction: 'ASC' | 'DESC' } | null): Prisma.ThreadOrderByWithRelationInput[] {
  const dir = order?.direction === 'ASC' ? 'asc' : 'desc';
  const field = order?.field === 'CREATED_AT' ? 'createdAt' : 'updatedAt';
  return [{ [field]: dir }, { id: dir }];
}
