import type { GraphQLError } from 'graphql';
import { viewerRole } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db, type Prisma } from '../../db/client.ts';
import { forbidden, notFound, unauthenticated } from '../../errors.ts';

/** What a viewer may do with a project or thread: read it, write in it, manage it (share, delete). */
export type Access = 'READ' | 'WRITE' | 'ADMIN';
const RANK: Record<Access, number> = { READ: 1, WRITE: 2, ADMIN: 3 };
export const accessAtLeast = (have: Access | null, need: Access) => !!have && RANK[have] >= RANK[need];
const best = (...all: (Access | null | undefined)[]) =>
  all.reduce<Access | null>((a, b) => (b && (!a || RANK[b] > RANK[a]) ? b : a), null);

type ProjectRow = { id: string; orgId: string; createdById: string; publicAccess: Access | null };
type ThreadRow = { id: string; orgId: string; createdById: string; projectId: string | null };

/** The viewer's share of each project, one query per operation. */
function shareOf(ctx: Context, userId: string, projectId: string) {
  return ctx
    .loader<string, Access | null>('projectShareOfViewer', async (ids) => {
      const rows = await db.projectShare.findMany({ where: { userId, projectId: { in: [...ids] } } });
      const byId = new Map(rows.map((r) => [r.projectId, r.access as Access]));
      return ids.map((id) => byId.get(id) ?? null);
    })
    .load(projectId);
}

const loadRow = <T>(ctx: Context, name: string, find: (ids: string[]) => Promise<(T & { id: string })[]>) => (id: string) =>
  ctx
    .loader<string, T | null>(name, async (ids) => {
      const rows = await find([...ids]);
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
    })
    .load(id);

const projectSelect = { id: true, orgId: true, createdById: true, publicAccess: true } as const;
const threadSelect = { id: true, orgId: true, createdById: true, projectId: true } as const;
export const loadProjectRow = (ctx: Context, id: string) =>
  loadRow<ProjectRow>(ctx, 'projectAccessRow', (ids) => db.project.findMany({ where: { id: { in: ids } }, select: projectSelect }))(id);
export const loadThreadRow = (ctx: Context, id: string) =>
  loadRow<ThreadRow>(ctx, 'threadAccessRow', (ids) => db.thread.findMany({ where: { id: { in: ids } }, select: threadSelect }))(id);

/** An API key's access: by scope, in its org, and, for a project-scoped key, in that project only. */
function keyAccess(v: Extract<Context['viewer'], { kind: 'apiKey' }>, orgId: string, projectId: string | null): Access | null {
  if (v.orgId !== orgId || (v.projectId && v.projectId !== projectId)) return null;
  return v.scopes.includes('WRITE') ? 'WRITE' : v.scopes.includes('READ') ? 'READ' : null;
}

/**
 * A project's access, for members of its org only: org OWNERs and ADMINs and its creator manage it;
 * other members get their share, or the org-wide ("public") access. API keys of the org read with READ and
 * write with WRITE.
 */
export async function projectAccess(ctx: Context, p: ProjectRow): Promise<Access | null> {
  const v = ctx.viewer;
  if (v.kind === 'apiKey') return keyAccess(v, p.orgId, p.id);
  if (v.kind !== 'user') return null;
  const role = await viewerRole(ctx, p.orgId);
  // Shares count only while the user is in the org: someone removed from it loses them at once.
  if (!role) return null;
  const manages = role === 'OWNER' || role === 'ADMIN' || p.createdById === v.userId;
  return best(manages ? 'ADMIN' : null, await shareOf(ctx, v.userId, p.id), p.publicAccess);
}

/** A thread's access: its creator (while in the org) manages it; the rest follows its project. */
export async function threadAccess(ctx: Context, t: ThreadRow): Promise<Access | null> {
  const v = ctx.viewer;
  if (v.kind === 'apiKey') return keyAccess(v, t.orgId, t.projectId);
  if (v.kind !== 'user') return null;
  const own = t.createdById === v.userId && (await viewerRole(ctx, t.orgId)) ? 'ADMIN' : null;
  const project = t.projectId ? await loadProjectRow(ctx, t.projectId) : null;
  return best(own, project ? await projectAccess(ctx, project) : null);
}

/** No access → NOT_FOUND (existence is not leaked); too little → FORBIDDEN. */
async function verdict(ctx: Context, what: string, access: Access | null, need: Access): Promise<true | GraphQLError> {
  if (ctx.viewer.kind === 'anonymous') return unauthenticated();
  if (!access) return notFound(what);
  return accessAtLeast(access, need) || forbidden(`Requires ${need} access to this ${what.toLowerCase()}`);
}

export async function checkProject(ctx: Context, projectId: string, need: Access): Promise<true | GraphQLError> {
  const row = await loadProjectRow(ctx, projectId);
  return verdict(ctx, 'Project', row ? await projectAccess(ctx, row) : null, need);
}

/** For chat, an API key also needs the CHAT scope. */
export async function checkThread(ctx: Context, threadId: string, need: Access, opts: { chat?: boolean } = {}): Promise<true | GraphQLError> {
  const row = await loadThreadRow(ctx, threadId);
  const result = await verdict(ctx, 'Thread', row ? await threadAccess(ctx, row) : null, need);
  if (result === true && opts.chat && ctx.viewer.kind === 'apiKey' && !ctx.viewer.scopes.includes('CHAT')) return forbidden('API key lacks the CHAT scope');
  return result;
}

/** Projects a user can read, as a Prisma filter (the same rules as projectAccess). */
export function readableProjectsWhere(userId: string): Prisma.ProjectWhereInput {
  const member = { members: { some: { userId } } };
  return {
    OR: [
      { org: { members: { some: { userId, role: { in: ['OWNER', 'ADMIN'] } } } } },
      { createdById: userId, org: member },
      { shares: { some: { userId } }, org: member },
      { publicAccess: { not: null }, org: member },
    ],
  };
}

/** Threads a user can read, as a Prisma filter (the same rules as threadAccess). */
export function readableThreadsWhere(userId: string): Prisma.ThreadWhereInput {
  return { OR: [{ createdById: userId, org: { members: { some: { userId } } } }, { project: readableProjectsWhere(userId) }] };
}
