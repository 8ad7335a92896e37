import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { forbidden, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import { announceThreadsDeleted } from '../threads/threads.service.ts';

const access = z.enum(['READ', 'WRITE', 'ADMIN']);
const createInput = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  description: z.string().trim().max(5000).nullish(),
});
const updateInput = z.object({
  name: createInput.shape.name.optional(),
  description: createInput.shape.description,
});
const shareInput = z.object({ access });
const publicInput = z.object({ access: access.nullish() });

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
export async function deleteProject(ctx: Context, projectId: string) {
  // The threads as of the delete: one created meanwhile fails to find its project (a foreign key) or goes with it.
  const [threads] = await db.$transaction([db.thread.findMany({ where: { projectId }, select: { id: true } }), db.project.delete({ where: { id: projectId } })]);
  announceThreadsDeleted(ctx, threads.map((t) => t.id));
}

/** Grants (or changes) a member's access; sharing again with the same member replaces it. */
export async function shareProject(ctx: Context, projectId: string, userId: string, input: unknown) {
  const data = parseInput(shareInput, input);
  // Only members of the project's org can be given access (shares of others would count for nothing).
  const project = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { orgId: true } });
  const member = await db.membership.findUnique({ where: { orgId_userId: { orgId: project.orgId, userId } }, select: { userId: true } });
  if (!member) throw notFound('User');
  return announced(
    ctx,
    projectId,
    userId,
    db.projectShare.upsert({
      where: { projectId_userId: { projectId, userId } },
      create: { projectId, userId, access: data.access },
      update: { access: data.access },
    }),
  );
}

/** Removes a member's share (NOT_FOUND when there is none); live thread streams of whoever lost access end (they re-check on this event). */
export async function unshareProject(ctx: Context, projectId: string, userId: string) {
  const share = await db.projectShare.findUnique({ where: { projectId_userId: { projectId, userId } }, select: { id: true } });
  if (!share) throw notFound('Share');
  await announced(ctx, projectId, userId, db.projectShare.deleteMany({ where: { id: share.id } }));
  return share;
}

/** The org-wide share: every member of the org gets `access`; null takes it away. */
export async function setPublicAccess(ctx: Context, projectId: string, input: unknown) {
  const data = parseInput(publicInput, input);
  return announced(ctx, projectId, null, db.project.update({ where: { id: projectId }, data: { publicAccess: data.access ?? null } }));
}

/** Publishes after the write has committed (the awaited result). */
async function announced<T>(ctx: Context, projectId: string, userId: string | null, write: Promise<T>): Promise<T> {
  const result = await write;
  ctx.app.pubsub.publish('project:accessChanged', projectId, { userId });
  // A share of one user concerns that user's streams; the org-wide access, everyone watching the project.
  announceAccessChange(ctx.app.pubsub, { subjects: [userId ? `user:${userId}` : `project:${projectId}`] });
  return result;
}
