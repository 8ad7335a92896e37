import { dbKind, type Tx } from '../../db/client.ts';

/**
 * Holds the room's row until the transaction ends, so that checks made after it (how many messages are pinned,
 * who the members are) stay true until the commit. PostgreSQL: `SELECT ... FOR UPDATE` (it also waits for a
 * member being added, whose foreign key holds the row). SQLite: nothing to do, a write transaction already has the
 * whole file to itself (BEGIN IMMEDIATE, src/db/client.ts).
 */
export async function lockRoom(tx: Tx, roomId: string): Promise<boolean> {
  if (dbKind !== 'postgresql') return (await tx.room.count({ where: { id: roomId } })) > 0;
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Room" WHERE "id" = ${roomId} FOR UPDATE`;
  return rows.length > 0;
}
