import { z } from 'zod';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db, type Prisma, type Tx } from '../../db/client.ts';
import { conflict, forbidden, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import { sessionForTurn } from '../chat/sessions.service.ts';
import { estimateTokens } from '../chat/tokens.ts';
import { MAX_MESSAGE_CHARS } from '../chat/threadchat.service.ts';

/** Stored metadata is capped, so one client cannot bloat every history read. */
const MAX_METADATA_CHARS = 16_000;

export const appendedMessage = z.object({
  role: z.enum(['USER', 'ASSISTANT', 'SYSTEM']).default('USER'),
  content: z.string().min(1, 'is required').max(MAX_MESSAGE_CHARS),
  metadata: z
    .unknown()
    .nullish()
    .refine((m) => m == null || JSON.stringify(m).length <= MAX_METADATA_CHARS, `must be at most ${MAX_METADATA_CHARS} characters of JSON`),
  clientMsgId: z.string().trim().min(1).max(100).nullish(),
});
export type AppendedMessage = z.output<typeof appendedMessage>;

export interface AppendResult {
  message: Message;
  /** True when clientMsgId matched an earlier message from the same author: nothing new was stored. */
  deduplicated: boolean;
}

const dedupeKeyOf = (threadId: string, authorId: string, clientMsgId: string) => `${threadId}:${authorId}:${clientMsgId}`;

/**
 * Writes one message as given into a session of a thread, inside the caller's transaction, and
 * keeps the thread's counters and the session's history size in step (rotation still works).
 */
export async function insertMessage(tx: Tx, o: { threadId: string; sessionId: string; authorId: string; data: AppendedMessage; at?: Date }) {
  const at = o.at ?? new Date();
  const tokens = estimateTokens(o.data.content);
  // The thread's row first: its counter allocates the seq, and its lock orders concurrent writers.
  const { messageCount: seq } = await tx.thread.update({ where: { id: o.threadId }, data: { messageCount: { increment: 1 }, lastMessageAt: at }, select: { messageCount: true } });
  const message = await tx.message.create({
    data: {
      threadId: o.threadId,
      seq,
      sessionId: o.sessionId,
      role: o.data.role,
      status: 'COMPLETE',
      content: o.data.content,
      authorId: o.authorId,
      clientMsgId: o.data.clientMsgId ?? null,
      dedupeKey: o.data.clientMsgId ? dedupeKeyOf(o.threadId, o.authorId, o.data.clientMsgId) : null,
      metadata: (o.data.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
      createdAt: at,
    },
  });
  await tx.session.update({ where: { id: o.sessionId }, data: { historyTokens: { increment: tokens } } });
  await tx.thread.updateMany({ where: { id: o.threadId, firstMessageAt: null }, data: { firstMessageAt: at } });
  return message;
}

/**
 * appendThreadMessage: stores a message exactly as given, for clients that run their own model. No
 * model is called (a rotation summary is a plain digest) and nothing is metered. A retry with the
 * same clientMsgId from the same author returns the first message. ThreadMessageAdded is published
 * after the commit.
 */
export async function appendThreadMessage(ctx: Context, threadId: string, input: unknown): Promise<AppendResult> {
  const data = parseInput(appendedMessage, input);
  const authorId = actingUserId(ctx.viewer);
  if (!authorId) throw forbidden();
  const earlier = () => (data.clientMsgId ? db.message.findUnique({ where: { dedupeKey: dedupeKeyOf(threadId, authorId, data.clientMsgId) } }) : null);
  const found = await earlier();
  if (found) return { message: found, deduplicated: true };
  const thread = await db.thread.findUnique({ where: { id: threadId } });
  if (!thread) throw notFound('Thread');
  if (thread.status === 'ARCHIVED') throw conflict('This thread is archived; set its status to ACTIVE to continue it');
  const session = await sessionForTurn(ctx.app, thread, ctx.app.config.models.default, { offlineSummary: true });
  let message: Message;
  try {
    message = await db.$transaction((tx) => insertMessage(tx, { threadId, sessionId: session.id, authorId, data }));
  } catch (err) {
    const again = isUniqueViolation(err) ? await earlier() : null;
    if (again) return { message: again, deduplicated: true };
    throw err;
  }
  ctx.app.pubsub.publish('thread:event', threadId, { type: 'ThreadMessageAdded', messageId: message.id, seq: message.seq });
  ctx.app.pubsub.publish('session:event', session.id, { type: 'ThreadMessageAdded', messageId: message.id, seq: message.seq });
  return { message, deduplicated: false };
}
