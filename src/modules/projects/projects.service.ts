import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db.ts';
import { badInput, forbidden, notFound, parseInput } from '../../errors.ts';

const access = z.enum(['READ', 'WRITE', 'ADMIN']);
const createInput = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  description: z.string().trim().max(5000).nullish(),
});
const shareInput = z.object({ userId: z.string().nullish(), public: z.boolean().nullish(), access });
const unshareInput = z.object({ userId: z.string().nullish(), public: z.boolean().nullish() });

export async function createProject(ctx: Context, orgId: string, input: unknown) {
  const data = parseInput(createInput, input);
  const createdById = actingUserId(ctx.viewer);
  if (!createdById) throw forbidden();
  return db.project.create({ data: { orgId, createdById, name: data.name, description: data.description ?? null } });
}

/** Exactly one target: a user, or `public: true` (every member of the project's org). */
function target(data: { userId?: string | null; public?: boolean | null }): { userId: string } | { public: true } {
  if (data.userId && data.public) throw badInput('Give either userId or public, not both', 'userId');
  if (data.userId) return { userId: data.userId };
  if (data.public) return { public: true };
  throw badInput('Give userId, or public: true', 'userId');
}

/** Grants (or changes) access; sharing again with the same target replaces its access. */
export async function shareProject(projectId: string, userId: string | null, input: unknown) {
  const data = parseInput(shareInput, { ...(input as object), userId });
  const to = target(data);
  if ('public' in to) return db.project.update({ where: { id: projectId }, data: { publicAccess: data.access } });
  const user = await db.user.findUnique({ where: { id: to.userId }, select: { id: true } });
  if (!user) throw notFound('User');
  await db.projectShare.upsert({
    where: { projectId_userId: { projectId, userId: to.userId } },
    create: { projectId, userId: to.userId, access: data.access },
    update: { access: data.access },
  });
  return db.project.findUniqueOrThrow({ where: { id: projectId } });
}

export async function unshare(projectId: string, userId: string | null, input: unknown) {
  const to = target(parseInput(unshareInput, { ...(input as object), userId }));
  if ('public' in to) return db.project.update({ where: { id: projectId }, data: { publicAccess: null } });
  await db.projectShare.deleteMany({ where: { projectId, userId: to.userId } });
  return db.project.findUniqueOrThrow({ where: { id: projectId } });
}
