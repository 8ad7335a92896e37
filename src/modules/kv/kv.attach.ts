import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';

export const SYSTEM_PROMPT_TAG = 'SystemPrompt';

/**
 * Attaches an instance to a thread (again: updates edit mode). Both must be in the same org, so a key
 * never leaks into another org's prompts. Access was checked by the caller (thread WRITE, instance READ,
 * ADMIN for edit mode).
 */
export async function attach(threadId: string, instanceId: string, editMode: boolean) {
  const [thread, instance] = await Promise.all([
    db.thread.findUniqueOrThrow({ where: { id: threadId }, select: { orgId: true } }),
    db.kvInstance.findUniqueOrThrow({ where: { id: instanceId }, select: { project: { select: { orgId: true } } } }),
  ]);
  if (thread.orgId !== instance.project.orgId) throw badInput('The thread and the KV instance belong to different orgs', 'kvInstanceId');
  return db.kvAttachment.upsert({
    where: { threadId_instanceId: { threadId, instanceId } },
    create: { threadId, instanceId, editMode },
    update: { editMode },
  });
}

export async function detach(threadId: string, instanceId: string) {
  await db.kvAttachment.deleteMany({ where: { threadId, instanceId } });
}

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The `SystemPrompt` keys of the thread's attached instances (in attachment order, keys by name), each
 * as `name: value`. Images are left out: a prompt is text.
 */
export async function kvSystemPrompt(threadId: string): Promise<string | null> {
  const rows = await db.kvAttachment.findMany({
    where: { threadId },
    orderBy: [{ createdAt: 'asc' }, { instanceId: 'asc' }],
    select: { instance: { select: { keys: { orderBy: { name: 'asc' }, where: { type: { not: 'IMAGE' } } } } } },
  });
  const parts = rows.flatMap((r) => r.instance.keys.filter((k) => ((k.tags as string[]) ?? []).includes(SYSTEM_PROMPT_TAG)).map((k) => `${k.name}: ${asText(k.value)}`));
  return parts.length ? parts.join('\n') : null;
}
