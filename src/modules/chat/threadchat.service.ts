import { z } from 'zod';
import { idOf } from '../../auth/rules.ts';
import { actingUserId } from '../../auth/viewer.ts';
import { prepareAttachments } from '../attachments/attachments.service.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { conflict, forbidden, notFound, parseInput } from '../../errors.ts';
import { systemPromptOf } from '../threads/contexts.prompt.ts';
import { assertQuotaLeft, usageHooks } from '../usage/usage.service.ts';
import { findEarlierTurn, runChatTurn } from './chat.service.ts';
import type { ChatTurnResult } from './chat.turn.ts';
import type { ChatEvent } from './chat.topics.ts';
import { cancelLocal } from './generations.ts';
import { sessionHooks, threadSystemPrompt, threadTools } from './hooks.ts';
import { resolveModel } from './providers/index.ts';
import { sessionForTurn } from './sessions.service.ts';

export const MAX_MESSAGE_CHARS = 32_000;

const sendInput = z.object({
  content: z.string().trim().min(1, 'is required').max(MAX_MESSAGE_CHARS),
  model: z.string().trim().max(200).nullish(),
  clientMsgId: z.string().trim().min(1).max(100).nullish(),
});

/**
 * sendThreadMessage: the thread's current session (rotated when over budget or expired), metered
 * against the org's plan (plus whatever hooks other domains register for the session), events on
 * `thread:event` and `session:event`.
 */
export async function sendThreadMessage(ctx: Context, threadId: string, input: unknown): Promise<ChatTurnResult> {
  const data = parseInput(sendInput, input);
  const authorId = actingUserId(ctx.viewer);
  if (!authorId) throw forbidden();
  const thread = await db.thread.findUnique({ where: { id: threadId } });
  if (!thread) throw notFound('Thread');
  if (thread.status === 'ARCHIVED') throw conflict('This thread is archived; set its status to ACTIVE to continue it');
  const earlier = await findEarlierTurn(threadId, authorId, data.clientMsgId);
  if (earlier) return earlier;
  const model = resolveModel(ctx.app.config, data.model);
  const given = (input as { attachmentIds?: unknown[] | null }).attachmentIds;
  const attachmentIds = given?.length
    ? await prepareAttachments(ctx.app, authorId, thread.orgId, given.map((id) => idOf(id, 'Attachment', 'attachmentIds')))
    : undefined;
  await assertQuotaLeft(ctx.app, thread.orgId, model);
  const session = await sessionForTurn(ctx.app, thread, model);
  const publish = (event: ChatEvent) => {
    ctx.app.pubsub.publish('thread:event', threadId, event);
    ctx.app.pubsub.publish('session:event', session.id, event);
  };
  return runChatTurn({
    app: ctx.app,
    session,
    threadId,
    orgId: thread.orgId,
    authorId,
    content: data.content,
    model,
    clientMsgId: data.clientMsgId,
    attachmentIds,
    systemPrompt: await threadSystemPrompt(threadId, await systemPromptOf(threadId)),
    tools: await threadTools(ctx, threadId),
    publish,
    hooks: [usageHooks(ctx.app, thread.orgId, authorId), ...(await sessionHooks(ctx, session))],
  });
}

/**
 * Stops a reply being generated. Here when this process runs it; otherwise asked of the other
 * instances (Redis). A reply that has already ended is returned as it is.
 */
export async function cancelGeneration(ctx: Context, messageId: string) {
  const message = await db.message.findUnique({ where: { id: messageId } });
  if (!message || message.role !== 'ASSISTANT') throw notFound('Message');
  if (message.status === 'STREAMING' || message.status === 'PENDING') {
    if (!(await cancelLocal(ctx.app, messageId))) {
      ctx.app.pubsub.publish('chat:cancel', { messageId });
      await waitForEnd(messageId, 3000);
    }
  }
  return db.message.findUniqueOrThrow({ where: { id: messageId } });
}

async function waitForEnd(messageId: string, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const m = await db.message.findUnique({ where: { id: messageId }, select: { status: true } });
    if (!m || (m.status !== 'STREAMING' && m.status !== 'PENDING')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
