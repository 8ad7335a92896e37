import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, forbidden, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';

const access = z.enum(['READ', 'WRITE', 'ADMIN']);
const createInput = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  description: z.string().trim().max(5000).nullish(),
});
const updateInput = z.object({
  name: createInput.shape.name.optional(),
  description: createInput.shape.description,
});
const shareInput = z.object({ userId: z.string().nullish(), public: z.boolean().nullish(), access });
const unshareInput = z.object({ userId: z.string().nullish(), public: z.boolean().nullish() });

export async function createProject(ctx: Context, orgId: string, input: unknown) {
  const data = parseInput(createInput, input);
  const createdById = actingUserId(ctx.viewer);
  if (!createdById) throw forbidden();
  return db.project.create({ data: { orgId, createdById, name: data.name, description: data.description ?? null } });
}

/** Renames or re-describes a project; a field left out is kept, `description: null` clears it. */
export async function updateProject(projectId: string, input: unknown) {
  const data = parseInput(updateInput, input);
  return db.project.update({
    where: { id: projectId },
    data: {
      ...(data.name !== undefined ? { name: data.name } : {}),
      ...(data.description !== undefined ? { description: data.description } : {}),
    },
  });
}

/**
 * Deletes a project with everything in it: its threads (and their sessions, messages, invoices),
 * its shares and the API keys scoped to it, by the database's cascades, in one statement.
 */
export async function deleteProject(projectId: string) {
  await db.project.delete({ where: { id: projectId } });
}

/** Exactly one target: a user, or `public: true` (every member of the project's org). */
function target(data: { userId?: string | null; public?: boolean | null }): { userId: string } | { public: true } {
  if (data.userId && data.public) throw badInput('Give either userId or public, not both', 'userId');
  if (data.userId) return { userId: data.userId };
  if (data.public) return { public: true };
  throw badInput('Give userId, or public: true', 'userId');
}

/** Grants (or changes) access; sharing again with the same target replaces its access. */
export async function shareProject(ctx: Context, projectId: string, userId: string | null, input: unknown) {
  const data = parseInput(shareInput, { ...(input as object), userId });
  const to = target(data);
  if ('public' in to) return announced(ctx, projectId, null, db.project.update({ where: { id: projectId }, data: { publicAccess: data.access } }));
  // Only members of the project's org can be given access (shares of others would count for nothing).
  const project = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { orgId: true } });
  const member = await db.membership.findUnique({ where: { orgId_userId: { orgId: project.orgId, userId: to.userId } }, select: { userId: true } });
  if (!member) throw notFound('User');
  await db.projectShare.upsert({
    where: { projectId_userId: { projectId, userId: to.userId } },
    create: { projectId, userId: to.userId, access: data.access },
    update: { access: data.access },
  });
  return announced(ctx, projectId, to.userId, db.project.findUniqueOrThrow({ where: { id: projectId } }));
}

/** Removes a share; live thread streams of whoever lost access end (they re-check on this event). */
export async function unshare(ctx: Context, projectId: string, userId: string | null, input: unknown) {
  const to = target(parseInput(unshareInput, { ...(input as object), userId }));
  if ('public' in to) return announced(ctx, projectId, null, db.project.update({ where: { id: projectId }, data: { publicAccess: null } }));
  await db.projectShare.deleteMany({ where: { projectId, userId: to.userId } });
  return announced(ctx, projectId, to.userId, db.project.findUniqueOrThrow({ where: { id: projectId } }));
}

/** Publishes after the write has committed (the awaited result). */
async function announced<T>(ctx: Context, projectId: string, userId: string | null, write: Promise<T>): Promise<T> {
  const result = await write;
  ctx.app.pubsub.publish('project:accessChanged', projectId, { userId });
  // A share of one user concerns that user's streams; the org-wide access, everyone watching the project.
  announceAccessChange(ctx.app.pubsub, { subjects: [userId ? `user:${userId}` : `project:${projectId}`] });
  return result;
}
