import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, isAdminOfParentOrg, ruleOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { checkThread, threadAccess } from './threads.access.ts';

type Need = 'READ' | 'WRITE' | 'ADMIN';
/** A rule on the thread named by an argument (shield sees raw global IDs). */
export const threadRule = (name: string, need: Need, pick: (args: any) => unknown, opts: { chat?: boolean } = {}) =>
  ruleOf(name, (ctx, args) => checkThread(ctx, idOf(pick(args), 'Thread', 'threadId'), need, opts));

/** Writing a context node needs WRITE on its thread. */
const canEditContextNode = ruleOf('canEditContextNode', async (ctx, args) => {
  const node = await db.contextNode.findUnique({ where: { id: idOf(args.input.contextNodeId, 'ContextNode', 'contextNodeId') }, select: { threadId: true } });
  return node ? checkThread(ctx, node.threadId, 'WRITE') : notFound('Context node');
});

/** Linking writes on `from` and needs to see `to`. */
const canLinkThreads = ruleOf('canLinkThreads', async (ctx, args) => {
  const from = await checkThread(ctx, idOf(args.input.fromThreadId, 'Thread', 'fromThreadId'), 'WRITE');
  return from === true ? checkThread(ctx, idOf(args.input.toThreadId, 'Thread', 'toThreadId'), 'READ') : from;
});

/** Unlinking writes on the link's `from` thread; a link whose `from` the viewer cannot see is NOT_FOUND. */
const canUnlinkThreads = ruleOf('canUnlinkThreads', async (ctx, args) => {
  const r = await db.threadRelation.findUnique({ where: { id: idOf(args.input.threadRelationId, 'ThreadRelation', 'threadRelationId') }, select: { fromId: true } });
  if (!r) return notFound('Thread relation');
  const from = await checkThread(ctx, r.fromId, 'WRITE');
  return from === true || from.extensions.code !== 'NOT_FOUND' ? from : notFound('Thread relation');
});

/** A link is seen where Thread.relations shows it: to whoever may read both of its threads. */
async function canSeeRelation(ctx: Context, r: { fromId: string; toId: string }) {
  return (await checkThread(ctx, r.fromId, 'READ')) === true && (await checkThread(ctx, r.toId, 'READ')) === true;
}

export const threadsPermissions: DomainPermissions = {
  rules: {
    Query: { thread: threadRule('canReadThread', 'READ', (a) => a.id) },
    Mutation: {
      // A project-scoped API key may create threads in its project only (the service checks the project).
      createThread: ruleOf('canCreateThread', (ctx, args) =>
        checkOrg(ctx, idOf(args.input.orgId, 'Org', 'orgId'), {
          scope: 'WRITE',
          projectId: args.input.projectId ? idOf(args.input.projectId, 'Project', 'projectId') : null,
        }),
      ),
      updateThread: threadRule('canUpdateThread', 'WRITE', (a) => a.input.threadId),
      deleteThread: threadRule('canDeleteThread', 'ADMIN', (a) => a.input.threadId),
      linkThreads: canLinkThreads,
      unlinkThreads: canUnlinkThreads,
      appendThreadMessage: threadRule('canAppendThreadMessage', 'WRITE', (a) => a.input.threadId),
      addContextNode: threadRule('canAddContextNode', 'WRITE', (a) => a.input.threadId),
      updateContextNode: canEditContextNode,
      removeContextNode: canEditContextNode,
    },
    Thread: { '*': allow },
    DeleteThreadPayload: { '*': allow },
    ThreadRelation: { '*': allow },
    UnlinkThreadsPayload: { '*': allow },
    ContextNode: { '*': allow },
    RemoveContextNodePayload: { '*': allow },
    AppendThreadMessagePayload: { '*': allow },
    Org: { threads: isAdminOfParentOrg },
  },
  nodes: {
    Thread: async (ctx, t) => !!(await threadAccess(ctx, t)),
    ContextNode: async (ctx, n: { threadId: string }) => (await checkThread(ctx, n.threadId, 'READ')) === true,
    ThreadRelation: canSeeRelation,
  },
};
