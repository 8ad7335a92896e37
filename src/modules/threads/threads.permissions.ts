import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, orgRule, ruleOf } from '../../auth/rules.ts';
import { checkThread, threadAccess } from './threads.access.ts';

type Need = 'READ' | 'WRITE' | 'ADMIN';
/** A rule on the thread named by an argument (shield sees raw global IDs). */
export const threadRule = (name: string, need: Need, pick: (args: any) => unknown, opts: { chat?: boolean } = {}) =>
  ruleOf(name, (ctx, args) => checkThread(ctx, idOf(pick(args), 'Thread', 'threadId'), need, opts));

const isSelfForThreads = ruleOf('isSelfForThreads', (ctx, _a, user: { id: string }) => ctx.viewer.kind === 'user' && ctx.viewer.userId === user.id, 'strict');

export const threadsPermissions: DomainPermissions = {
  rules: {
    Query: { thread: threadRule('canReadThread', 'READ', (a) => a.id) },
    Mutation: {
      createThread: orgRule('canCreateThread', (a) => a.input.orgId, { scope: 'WRITE' }),
      updateThread: threadRule('canUpdateThread', 'WRITE', (a) => a.input.id),
      deleteThread: threadRule('canDeleteThread', 'ADMIN', (a) => a.input.id),
    },
    Thread: { '*': allow },
    DeleteThreadPayload: { '*': allow },
    User: { threads: isSelfForThreads },
  },
  nodes: {
    Thread: async (ctx, t) => !!(await threadAccess(ctx, t)),
  },
};
