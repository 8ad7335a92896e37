import { z } from 'zod';
import type { AppServices } from '../../context.ts';
import { db, Prisma, type Tx } from '../../db/client.ts';
import { notFound, parseInput } from '../../errors.ts';
import type { Access } from './kv.access.ts';
import type { KvEvent, KvEventKind, KvKeyJson } from './kv.topics.ts';

/** Who changes keys: their access to the instance, and whether they act as an AI in edit mode. */
export interface KvActor {
  userId: string | null;
  access: Access;
  /** An AI operation in edit mode may change readonly keys (like an ADMIN). */
  editMode?: boolean;
}

const nameInput = z.object({ name: z.string().trim().min(1, 'is required').max(200) });

export function createInstance(projectId: string, input: unknown) {
  const { name } = parseInput(nameInput, input);
  return db.kvInstance.create({ data: { projectId, name } });
}

export function renameInstance(instanceId: string, input: unknown) {
  const { name } = parseInput(nameInput, input);
  return db.kvInstance.update({ where: { id: instanceId }, data: { name } });
}

/** Deletes an instance (its keys, events and attachments cascade); returns the deleted row. */
export function deleteInstance(instanceId: string) {
  return db.kvInstance.delete({ where: { id: instanceId } });
}

type Change = { kind: KvEventKind; name: string | null; key: KvKeyJson | null };

/**
 * Store-then-publish with a gap-free version: the instance's counter is incremented first (its row
 * lock, or SQLite's single writer, orders concurrent writers, so checks made after it, such as
 * ifVersion, see every earlier commit), then the change and its event-log row are written in the same
 * transaction. A change that throws rolls the version back. Subscribers hear of it after the commit.
 */
export async function commitChange(app: AppServices, instanceId: string, write: (tx: Tx, version: number) => Promise<Change>): Promise<KvEvent> {
  let event: KvEvent;
  try {
    event = await db.$transaction(
      async (tx) => {
        const inst = await tx.kvInstance.update({
          where: { id: instanceId },
          data: { lastVersion: { increment: 1 } },
          select: { lastVersion: true, projectId: true, project: { select: { orgId: true } } },
        });
        const change = await write(tx, inst.lastVersion);
        const row = await tx.kvEvent.create({
          data: { instanceId, version: inst.lastVersion, kind: change.kind, keyName: change.name, key: change.key ? (change.key as unknown as Prisma.InputJsonValue) : Prisma.DbNull },
        });
        return { orgId: inst.project.orgId, projectId: inst.projectId, instanceId, version: inst.lastVersion, ...change, at: row.createdAt.toISOString() };
      },
      { maxWait: 15_000, timeout: 15_000 },
    );
  } catch (err) {
    if ((err as { code?: string })?.code === 'P2025') throw notFound('KvInstance');
    throw err;
  }
  app.pubsub.publish('kv:event', instanceId, event);
  return event;
}

/** Stored events of an instance with version in (after, before), oldest first. */
export async function eventsBetween(instanceId: string, after: number, before: number | undefined, take: number): Promise<KvEvent[]> {
  const rows = await db.kvEvent.findMany({
    where: { instanceId, version: { gt: after, ...(before !== undefined ? { lt: before } : {}) } },
    orderBy: { version: 'asc' },
    take,
    include: { instance: { select: { projectId: true, project: { select: { orgId: true } } } } },
  });
  return rows.map((r) => ({
    orgId: r.instance.project.orgId,
    projectId: r.instance.projectId,
    instanceId,
    version: r.version,
    kind: r.kind as KvEventKind,
    name: r.keyName,
    key: (r.key as unknown as KvKeyJson | null) ?? null,
    at: r.createdAt.toISOString(),
  }));
}
