import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db, type Prisma } from '../../db/client.ts';
import { badInput, forbidden, notFound, parseInput } from '../../errors.ts';
import { expiresFrom } from '../chat/sessions.service.ts';
import { appendedMessage, insertMessage } from './thread-messages.service.ts';
import { checkProject, readableThreadsWhere } from './threads.access.ts';

const title = z.string().trim().min(1, 'is required').max(200);
const createInput = z.object({ title, metadata: z.unknown().optional(), firstMessage: appendedMessage.nullish() });
const updateInput = z.object({
  title: title.optional(),
  status: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  metadata: z.unknown().optional(),
});

/**
 * A thread in an org, optionally in a project of that org (which needs WRITE access to the project).
 * With `firstMessage`, the thread, its first session and that message are one transaction: a
 * refused message leaves no empty thread behind.
 */
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
  const threadData = { orgId, projectId, createdById, title: data.title, metadata: (data.metadata ?? undefined) as Prisma.InputJsonValue | undefined };
  const first = data.firstMessage;
  if (!first) return db.thread.create({ data: threadData });
  const { thread, message } = await db.$transaction(async (tx) => {
    const created = await tx.thread.create({ data: threadData });
    const session = await tx.session.create({ data: { threadId: created.id, orgId, ownerId: createdById, expiresAt: expiresFrom(ctx.app) } });
    await tx.thread.update({ where: { id: created.id }, data: { currentSessionId: session.id } });
    const message = await insertMessage(tx, { threadId: created.id, sessionId: session.id, authorId: createdById, data: first });
    return { thread: created, message };
  });
  ctx.app.pubsub.publish('thread:event', thread.id, { type: 'ThreadMessageAdded', messageId: message.id, seq: message.seq });
  return thread;
}

/** Changes the thread; its threadEvents streams hear ThreadUpdated after the write. */
export async function updateThread(ctx: Context, threadId: string, input: unknown) {
  const data = parseInput(updateInput, input);
  const thread = await db.thread.update({
    where: { id: threadId },
    data: {
      ...(data.title !== undefined ? { title: data.title } : {}),
      ...(data.status ? { status: data.status } : {}),
      ...(data.metadata !== undefined ? { metadata: data.metadata as Prisma.InputJsonValue } : {}),
    },
  });
  ctx.app.pubsub.publish('thread:event', threadId, { type: 'ThreadUpdated', threadId });
  return thread;
}

/** Deletes the thread; its live streams get ThreadDeleted and end. */
export async function deleteThread(ctx: Context, threadId: string) {
  await db.thread.delete({ where: { id: threadId } });
  announceThreadsDeleted(ctx, [threadId]);
}

/** After threads were deleted (one, or a project's by cascade): their threadEvents streams hear it last. */
export function announceThreadsDeleted(ctx: Context, threadIds: string[]) {
  for (const threadId of threadIds) ctx.app.pubsub.publish('thread:event', threadId, { type: 'ThreadDeleted', threadId });
}

export interface ThreadFilter {
  projectId?: string | null;
  status?: 'ACTIVE' | 'ARCHIVED' | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
  /** Org.threads only: threads this user created. */
  authorId?: string | null;
  /** Org.threads only: created at or after `from`, and before `to`. */
  from?: Date | null;
  to?: Date | null;
}

/** The filter alone, shared by `me.threads` and `Org.threads`. `…After`/`…Before` bounds are exclusive. */
export function threadFilterWhere(f: ThreadFilter = {}): Prisma.ThreadWhereInput {
  const range = (after?: Date | null, before?: Date | null) =>
    after || before ? { ...(after ? { gt: after } : {}), ...(before ? { lt: before } : {}) } : undefined;
  const created = range(f.createdAfter, f.createdBefore);
  const updated = range(f.updatedAfter, f.updatedBefore);
  return {
    AND: [
      {
        ...(f.projectId ? { projectId: f.projectId } : {}),
        ...(f.status ? { status: f.status } : {}),
        ...(f.authorId ? { createdById: f.authorId } : {}),
        ...(created ? { createdAt: created } : {}),
        ...(updated ? { updatedAt: updated } : {}),
      },
      f.from || f.to ? { createdAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {},
    ],
  };
}

/** `me.threads`: what the user may read, narrowed by the filter. */
export function threadsWhere(userId: string, f: ThreadFilter = {}): Prisma.ThreadWhereInput {
  return { AND: [readableThreadsWhere(userId), threadFilterWhere(f)] };
}

/** `Org.threads` (org ADMINs): every thread of the org, narrowed by the filter. */
export function orgThreadsWhere(orgId: string, f: ThreadFilter = {}): Prisma.ThreadWhereInput {
  return { AND: [{ orgId }, threadFilterWhere(f)] };
}

export function threadsOrder(order?: { field: 'CREATED_AT' | 'UPDATED_AT'; direction: 'ASC' | 'DESC' } | null): Prisma.ThreadOrderByWithRelationInput[] {
  const dir = order?.direction === 'ASC' ? 'asc' : 'desc';
  const field = order?.field === 'CREATED_AT' ? 'createdAt' : 'updatedAt';
  return [{ [field]: dir }, { id: dir }];
}
