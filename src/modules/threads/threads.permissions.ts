import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, isAdminOfParentOrg, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { checkThread, threadAccess } from './threads.access.ts';

type Need = 'READ' | 'WRITE' | 'ADMIN';
/** A rule on the thread named by an argument (shield sees raw global IDs). */
export const threadRule = (name: string, need: Need, pick: (args: any) => unknown, opts: { chat?: boolean } = {}) =>
  ruleOf(name, (ctx, args) => checkThread(ctx, idOf(pick(args), 'Thread', 'threadId'), need, opts));

/** Writing a context node needs WRITE on its thread. */
const canEditContextNode = ruleOf('canEditContextNode', async (ctx, args) => {
  const node = await db.contextNode.findUnique({ where: { id: idOf(args.input.id, 'ContextNode') }, select: { threadId: true } });
  return node ? checkThread(ctx, node.threadId, 'WRITE') : notFound('Context node');
});

/** Linking writes on `from` and needs to see `to`. */
const canLinkThreads = ruleOf('canLinkThreads', async (ctx, args) => {
  const from = await checkThread(ctx, idOf(args.input.fromId, 'Thread', 'fromId'), 'WRITE');
  return from === true ? checkThread(ctx, idOf(args.input.toId, 'Thread', 'toId'), 'READ') : from;
});

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
      updateThread: threadRule('canUpdateThread', 'WRITE', (a) => a.input.id),
      deleteThread: threadRule('canDeleteThread', 'ADMIN', (a) => a.input.id),
      linkThreads: canLinkThreads,
      unlinkThreads: canLinkThreads,
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
  },
};
