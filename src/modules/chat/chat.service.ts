import { db } from '../../db/client.ts';
import { isUniqueViolation } from '../../errors.ts';
import { claimAttachments } from '../attachments/attachments.claim.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import { credentialsFor } from '../providerkeys/providerkeys.service.ts';
import { generate } from './chat.generate.ts';
import { trackGeneration } from './generations.ts';
import type { ChatTurnInput, ChatTurnResult, TurnInfo } from './chat.turn.ts';
import { providerFor, providerNameFor, resolveModel } from './providers/index.ts';
import { estimateTokens } from './tokens.ts';

const REPLY_SUFFIX = ':reply';

/**
 * One chat turn, shared by threads (sendThreadMessage), prepaid sessions (sendSessionMessage, issue 5)
 * and anything else that talks to a model with stored history: checks (model, key, hooks) → store
 * the user message and an empty STREAMING assistant message → stream the provider's reply as
 * AssistantDelta events → store the reply with token counts (AssistantDone), or mark it FAILED
 * (AssistantFailed). Resolves when the reply has ended; cancelGeneration(assistant id) aborts it.
 */
export async function runChatTurn(input: ChatTurnInput): Promise<ChatTurnResult> {
  const { app, session, publish } = input;
  const threadId = input.threadId ?? null;
  const authorId = input.authorId ?? null;
  const dedupeKey = input.clientMsgId ? dedupeKeyOf(threadId ?? session.id, authorId, input.clientMsgId) : null;
  if (dedupeKey) {
    const earlier = await findTurn(dedupeKey);
    if (earlier) return earlier;
  }
  const model = resolveModel(app.config, input.model);
  const providerName = providerNameFor(app.config, model);
  const provider = providerFor(app.config, providerName);
  const creds = await credentialsFor(app, input.orgId, providerName, provider.needsKey);
  const userTokens = estimateTokens(input.content);
  const turn: TurnInfo = {
    session,
    threadId,
    orgId: input.orgId ?? null,
    authorId,
    model,
    provider: providerName,
    estimatedPromptTokens: Math.min(session.historyTokens, app.config.sessions.historyBudget) + userTokens,
    content: input.content,
  };
  for (const hook of input.hooks ?? []) await hook.beforeGenerate?.(turn);

  let stored: { userMessage: Message; assistantMessage: Message };
  try {
    stored = await storeTurnStart(input, { model, dedupeKey, userTokens });
  } catch (err) {
    if (dedupeKey && isUniqueViolation(err)) return (await findTurn(dedupeKey))!;
    throw err;
  }
  const { userMessage, assistantMessage } = stored;
  publish({ type: 'ThreadMessageAdded', messageId: userMessage.id, seq: userMessage.seq });
  publish({ type: 'ThreadMessageAdded', messageId: assistantMessage.id, seq: assistantMessage.seq });

  const controller = new AbortController();
  const done = generate(input, turn, assistantMessage.id, controller.signal, creds);
  trackGeneration(app, assistantMessage.id, controller, done);
  return { userMessage, assistantMessage: await done, deduplicated: false };
}

const dedupeKeyOf = (scopeId: string, authorId: string | null, clientMsgId: string) => `${scopeId}:${authorId ?? 'anon'}:${clientMsgId}`;

/**
 * The turn an earlier send with this clientMsgId made in a thread (or standalone session), if any:
 * callers that do work before runChatTurn (rotation, quota checks) look here first, so a retry is
 * answered with the original even when that work would now refuse it.
 */
export function findEarlierTurn(scopeId: string, authorId: string | null, clientMsgId: string | null | undefined) {
  return clientMsgId ? findTurn(dedupeKeyOf(scopeId, authorId, clientMsgId)) : Promise.resolve(null);
}

async function findTurn(dedupeKey: string): Promise<ChatTurnResult | null> {
  const [userMessage, assistantMessage] = await Promise.all([
    db.message.findUnique({ where: { dedupeKey } }),
    db.message.findUnique({ where: { dedupeKey: dedupeKey + REPLY_SUFFIX } }),
  ]);
  return userMessage && assistantMessage ? { userMessage, assistantMessage, deduplicated: true } : null;
}

async function storeTurnStart(input: ChatTurnInput, o: { model: string; dedupeKey: string | null; userTokens: number }) {
  const now = Date.now();
  const threadId = input.threadId ?? null;
  return db.$transaction(async (tx) => {
    // A thread's row first: its counter allocates the two seqs, and its lock orders concurrent senders.
    let seq: number | null = null;
    if (threadId) {
      const t = await tx.thread.update({ where: { id: threadId }, data: { messageCount: { increment: 2 }, lastMessageAt: new Date(now + 1) }, select: { messageCount: true } });
      await tx.thread.updateMany({ where: { id: threadId, firstMessageAt: null }, data: { firstMessageAt: new Date(now) } });
      seq = t.messageCount - 1;
    }
    const userMessage = await tx.message.create({
      data: {
        threadId,
        seq,
        sessionId: input.session.id,
        role: 'USER',
        status: 'COMPLETE',
        content: input.content,
        authorId: input.authorId ?? null,
        clientMsgId: input.clientMsgId ?? null,
        dedupeKey: o.dedupeKey,
        promptTokens: o.userTokens,
        createdAt: new Date(now),
      },
    });
    if (input.attachmentIds?.length && input.authorId) await claimAttachments(tx, input.authorId, input.attachmentIds, { threadMessageId: userMessage.id });
    // One millisecond later, so "in order" never depends on id order within a millisecond.
    const assistantMessage = await tx.message.create({
      data: {
        threadId,
        sessionId: input.session.id,
        seq: seq === null ? null : seq + 1,
        role: 'ASSISTANT',
        status: 'STREAMING',
        content: '',
        model: o.model,
        dedupeKey: o.dedupeKey ? o.dedupeKey + REPLY_SUFFIX : null,
        createdAt: new Date(now + 1),
      },
    });
    await tx.session.update({ where: { id: input.session.id }, data: { historyTokens: { increment: o.userTokens } } });
    return { userMessage, assistantMessage };
  });
}
