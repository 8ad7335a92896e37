import { db } from '../../db/client.ts';

export const SYSTEM_PROMPT_TAG = 'system-prompt';

/**
 * The thread's system prompt: every context node tagged `system-prompt`, in tree order (parents
 * before children, siblings by creation), each as its title and content.
 */
export async function systemPromptOf(threadId: string): Promise<string | null> {
  const nodes = await db.contextNode.findMany({ where: { threadId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  const children = new Map<string | null, typeof nodes>();
  for (const n of nodes) children.set(n.parentId, [...(children.get(n.parentId) ?? []), n]);
  const parts: string[] = [];
  const walk = (parentId: string | null) => {
    for (const n of children.get(parentId) ?? []) {
      if (((n.tags as string[]) ?? []).includes(SYSTEM_PROMPT_TAG)) parts.push(n.title ? `${n.title}\n${n.content}` : n.content);
      walk(n.id);
    }
  };
  walk(null);
  return parts.length ? parts.join('\n\n') : null;
}
