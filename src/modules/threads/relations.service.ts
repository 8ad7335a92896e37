import { db, serializable, type Tx } from '../../db/client.ts';
import { badInput, conflict, notFound } from '../../errors.ts';

export type RelationKind = 'CONTINUES_FROM' | 'CHILD_OF' | 'RELATES_TO';

/** Is `ancestor` reached by following CHILD_OF edges upward from `start`? */
async function isAncestor(tx: Tx, start: string, ancestor: string): Promise<boolean> {
  const seen = new Set<string>([start]);
  let frontier = [start];
  while (frontier.length) {
    const parents = await tx.threadRelation.findMany({ where: { kind: 'CHILD_OF', fromId: { in: frontier } }, select: { toId: true } });
    frontier = [];
    for (const { toId } of parents) {
      if (toId === ancestor) return true;
      if (seen.has(toId)) continue;
      seen.add(toId);
      frontier.push(toId);
    }
  }
  return false;
}

/**
 * `from` CONTINUES_FROM / CHILD_OF / RELATES_TO `to`, both in one org. A CHILD_OF that would make a
 * thread its own ancestor is refused (checked in a serializable transaction, so two opposite links
 * made at once cannot both pass). Linking twice is a no-op.
 */
export async function linkThreads(fromId: string, toId: string, kind: RelationKind) {
  if (fromId === toId) throw badInput('A thread cannot be linked to itself', 'toId');
  const threads = await db.thread.findMany({ where: { id: { in: [fromId, toId] } }, select: { id: true, orgId: true } });
  if (threads.length !== 2) throw notFound('Thread');
  if (threads[0].orgId !== threads[1].orgId) throw badInput('Both threads must belong to the same org', 'toId');
  return serializable(async (tx) => {
    const existing = await tx.threadRelation.findUnique({ where: { fromId_toId_kind: { fromId, toId, kind } } });
    if (existing) return existing;
    if (kind === 'CHILD_OF' && (await isAncestor(tx, toId, fromId))) {
      throw conflict('That CHILD_OF link would make a cycle: the parent is already a descendant of the child', { field: 'toId' });
    }
    return tx.threadRelation.create({ data: { fromId, toId, kind } });
  });
}

/** Removes the link (NOT_FOUND when it is already gone); returns what it linked. */
export async function unlinkThreads(relationId: string) {
  const r = await db.threadRelation.findUnique({ where: { id: relationId }, select: { id: true, fromId: true, toId: true } });
  if (!r) throw notFound('Thread relation');
  await db.threadRelation.deleteMany({ where: { id: relationId } });
  return r;
}
