// Attaching uploads to a message inside the transaction that stores the message (rooms' group commit, a
// thread turn), so that two sends can never both claim one upload: imports only the database layer, so
// the rooms and chat modules can call it without importing the attachments service.
import type { Tx } from '../../db/client.ts';
import { badInput } from '../../errors.ts';

/** Where the uploads go: a room message or a thread message. */
export type ClaimTarget = { roomMessageId: string } | { threadMessageId: string };

/**
 * Attaches the uploads (in this order: their `position`) to the message, each only if it is the uploader's,
 * READY and attached to nothing yet. One conditional update per upload; if any of them is no longer free (a
 * concurrent send took it first), this throws BAD_USER_INPUT and the caller's transaction, message included,
 * rolls back. The uploads were checked before (prepareAttachments); this is the race-proof step.
 */
export async function claimAttachments(tx: Tx, uploaderId: string, attachmentIds: readonly string[], target: ClaimTarget, at = new Date()): Promise<void> {
  for (const [position, id] of attachmentIds.entries()) {
    const { count } = await tx.attachment.updateMany({
      where: { id, uploaderId, status: 'READY', roomMessageId: null, threadMessageId: null, attachedAt: null },
      data: { ...target, position, attachedAt: at },
    });
    if (count !== 1) throw badInput('attachmentIds: an upload is already attached to another message', 'attachmentIds');
  }
}
