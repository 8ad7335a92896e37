import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, passes, ruleOf } from '../../auth/rules.ts';
import { canReadProjectContents } from '../projects/projects.permissions.ts';
import { checkProject, checkThread } from '../threads/threads.access.ts';
import { checkInstance, type Access } from './kv.access.ts';

/** Attaching needs WRITE on the thread and READ on the instance; edit mode (readonly keys) needs ADMIN on it. */
const canAttach = ruleOf('canAttachKvInstance', async (ctx, args) => {
  const thread = await checkThread(ctx, idOf(args.input.threadId, 'Thread', 'threadId'), 'WRITE');
  if (thread !== true) return thread;
  return checkInstance(ctx, idOf(args.input.kvInstanceId, 'KvInstance', 'kvInstanceId'), args.input.editMode ? 'ADMIN' : 'READ');
});

const instanceRule = (name: string, need: Access) =>
  ruleOf(name, (ctx, args) => checkInstance(ctx, idOf(args.input.kvInstanceId, 'KvInstance', 'kvInstanceId'), need));

/**
 * A KV instance is its project's: READ shares (and READ API keys) read it, WRITE shares and keys set and
 * delete keys and run AI operations, ADMINs also clear and delete it. Readonly keys are the service's
 * rule (it needs the stored key).
 */
export const kvPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      createKvInstance: ruleOf('canCreateKvInstance', (ctx, args) => checkProject(ctx, idOf(args.input.projectId, 'Project', 'projectId'), 'WRITE')),
      updateKvInstance: instanceRule('canUpdateKvInstance', 'WRITE'),
      deleteKvInstance: instanceRule('canDeleteKvInstance', 'ADMIN'),
      setKvKey: instanceRule('canSetKvKey', 'WRITE'),
      deleteKvKey: instanceRule('canDeleteKvKey', 'WRITE'),
      clearKvInstance: instanceRule('canClearKvInstance', 'ADMIN'),
      attachKvInstance: canAttach,
      detachKvInstance: ruleOf('canDetachKvInstance', (ctx, args) => checkThread(ctx, idOf(args.input.threadId, 'Thread', 'threadId'), 'WRITE')),
      transformKv: instanceRule('canTransformKv', 'WRITE'),
      generateKvImage: instanceRule('canGenerateKvImage', 'WRITE'),
      analyzeKvImage: instanceRule('canAnalyzeKvImage', 'WRITE'),
    },
    // The stream authorizes itself when it starts (shield cannot stop a subscription).
    Subscription: { kvEvents: allow },
    KvInstance: { '*': allow },
    Project: { kvInstances: canReadProjectContents },
    KvKey: { '*': allow },
    KvAttachment: { '*': allow },
    DeleteKvInstancePayload: { '*': allow },
    DeleteKvKeyPayload: { '*': allow },
    ClearKvInstancePayload: { '*': allow },
    DetachKvInstancePayload: { '*': allow },
    KvKeyUpdated: { '*': allow },
    KvKeyDeleted: { '*': allow },
    KvInstanceCleared: { '*': allow },
  },
  nodes: {
    KvInstance: (ctx, i: { id: string }) => passes(checkInstance(ctx, i.id, 'READ')),
    KvKey: (ctx, k: { instanceId: string }) => passes(checkInstance(ctx, k.instanceId, 'READ')),
    // An attachment shows on its thread only to those who may read the instance too (Thread.kvAttachments).
    KvAttachment: async (ctx, a: { threadId: string; instanceId: string }) =>
      (await passes(checkThread(ctx, a.threadId, 'READ'))) && passes(checkInstance(ctx, a.instanceId, 'READ')),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: { Subscription: ['kvEvents'], KvKeyUpdated: '*', KvKeyDeleted: '*', KvInstanceCleared: '*', KvKey: '*' },
};
