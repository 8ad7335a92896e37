import { z } from 'zod';
import { db } from '../../db/client.ts';
import { badInput, notFound, parseInput } from '../../errors.ts';

const tags = z.array(z.string().trim().min(1).max(50)).max(20).transform((t) => [...new Set(t)]);
const fields = {
  kind: z.string().trim().min(1, 'is required').max(50),
  title: z.string().trim().max(200),
  content: z.string().max(50_000),
  tags,
};
const addInput = z.object({ ...fields, title: fields.title.default(''), tags: tags.default([]) });
const updateInput = z.object({ kind: fields.kind.optional(), title: fields.title.optional(), content: fields.content.optional(), tags: tags.optional() });

export async function addContextNode(threadId: string, parentId: string | null, input: unknown) {
  const data = parseInput(addInput, input);
  if (parentId) {
    const parent = await db.contextNode.findUnique({ where: { id: parentId }, select: { threadId: true } });
    if (!parent || parent.threadId !== threadId) throw badInput('The parent must be a context node of the same thread', 'parentContextNodeId');
  }
  return db.contextNode.create({ data: { threadId, parentId, ...data } });
}

export async function updateContextNode(id: string, input: unknown) {
  const data = parseInput(updateInput, input);
  return db.contextNode.update({ where: { id }, data });
}

/** Removes the node and its whole subtree; returns the ids removed (the node first) and its thread. */
export async function removeContextNode(id: string): Promise<{ ids: string[]; threadId: string }> {
  const node = await db.contextNode.findUnique({ where: { id }, select: { threadId: true } });
  if (!node) throw notFound('Context node');
  const all = await db.contextNode.findMany({ where: { threadId: node.threadId }, select: { id: true, parentId: true } });
  const removed = [id];
  for (let i = 0; i < removed.length; i++) for (const n of all) if (n.parentId === removed[i]) removed.push(n.id);
  await db.contextNode.deleteMany({ where: { id: { in: removed } } });
  return { ids: removed, threadId: node.threadId };
}
