import { db } from '../../db/client.ts';
import { gone } from '../../errors.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import type { ChatTurnInput, TurnInfo } from './chat.turn.ts';
import { deltaPublisher } from './deltas.ts';
import { CancelledError } from './generations.ts';
import { buildHistory } from './history.ts';
import { MAX_TOOL_ROUNDS, runToolCalls, type ToolLogEntry } from './chat.tools.ts';
import { ProviderError, providerFor, type GenerateRequest, type TokenUsage, type ToolCall } from './providers/index.ts';
import { estimateMessagesTokens, estimateTokens } from './tokens.ts';

/**
 * Streams the provider's reply into the STREAMING assistant message and stores how it ended. With
 * thread tools and a provider that supports them, a reply may first ask for tool calls: they run, their
 * results go back to the model, and it is asked again (at most MAX_TOOL_ROUNDS rounds, then once more
 * without tools). Text of every round streams and is kept; token usage is summed over the rounds.
 */
export async function generate(input: ChatTurnInput, turn: TurnInfo, messageId: string, signal: AbortSignal, creds: { apiKey?: string; baseUrl?: string }): Promise<Message> {
  const { app, publish } = input;
  const provider = providerFor(app.config, turn.provider);
  let text = '';
  let usage: TokenUsage | undefined;
  let prompt: Awaited<ReturnType<typeof buildHistory>> = [];
  const deltas = deltaPublisher(messageId, publish);
  const tools = provider.supportsTools && input.tools?.length ? input.tools : undefined;
  const toolLog: ToolLogEntry[] = [];
  try {
    prompt = await buildHistory(turn.session, { budget: app.config.sessions.historyBudget, systemPrompt: input.systemPrompt, app, model: turn.model });
    const messages: GenerateRequest['messages'] = [...prompt];
    for (let round = 0; ; round++) {
      const offer = tools && round < MAX_TOOL_ROUNDS ? tools : undefined;
      let calls: ToolCall[] = [];
      let roundText = '';
      for await (const chunk of provider.generate({ model: turn.model, messages, tools: offer?.map((t) => t.definition), signal, ...creds })) {
        if ('usage' in chunk) usage = usage ? { promptTokens: usage.promptTokens + chunk.usage.promptTokens, completionTokens: usage.completionTokens + chunk.usage.completionTokens } : chunk.usage;
        else if ('toolCalls' in chunk) calls = chunk.toolCalls;
        else if (chunk.delta) {
          text += chunk.delta;
          roundText += chunk.delta;
          deltas.push(chunk.delta);
        }
      }
      signal.throwIfAborted();
      if (!calls.length || (!offer && text)) break;
      if (!offer) throw new ProviderError(`The model kept asking for tools after ${MAX_TOOL_ROUNDS} rounds`);
      messages.push(...(await runToolCalls(app, offer, calls, roundText, toolLog)));
      signal.throwIfAborted();
    }
    deltas.flush();
  } catch (err) {
    deltas.flush();
    const cancelled = signal.aborted && signal.reason instanceof CancelledError;
    const error = cancelled ? 'Generation cancelled' : (err as Error)?.message || 'Provider failed';
    if (!cancelled) app.log.warn({ messageId, model: turn.model, err: error }, 'generation failed');
    const spent = usage ?? { promptTokens: estimateMessagesTokens(prompt), completionTokens: estimateTokens(text) };
    const failed = await finish(messageId, turn, { status: 'FAILED', content: text, error, usage: spent, metadata: { reason: cancelled ? 'CANCELLED' : 'PROVIDER_ERROR', ...logged(toolLog) } }).finally(() =>
      runAfterHooks(input, turn, spent, 'FAILED', messageId),
    );
    publish({ type: 'AssistantFailed', messageId, error, reason: cancelled ? 'CANCELLED' : 'PROVIDER_ERROR' });
    return failed;
  }
  const spent = usage ?? { promptTokens: estimateMessagesTokens(prompt), completionTokens: estimateTokens(text) };
  const message = await finish(messageId, turn, { status: 'COMPLETE', content: text, usage: spent, ...(toolLog.length ? { metadata: logged(toolLog) } : {}) }).finally(() =>
    runAfterHooks(input, turn, spent, 'COMPLETE', messageId),
  );
  publish({ type: 'AssistantDone', messageId });
  return message;
}

const logged = (log: ToolLogEntry[]) => (log.length ? { toolCalls: log } : {});

/** Stores how the reply ended; the tokens were spent even when its thread was deleted meanwhile (GONE). */
async function finish(messageId: string, turn: TurnInfo, r: { status: 'COMPLETE' | 'FAILED'; content: string; error?: string; usage: TokenUsage; metadata?: object }) {
  try {
    const [message] = await db.$transaction([
      db.message.update({
        where: { id: messageId },
        data: {
          status: r.status,
          content: r.content,
          error: r.error ?? null,
          promptTokens: r.usage.promptTokens,
          completionTokens: r.usage.completionTokens,
          ...(r.metadata ? { metadata: r.metadata } : {}),
        },
      }),
      // Only a complete reply becomes history, so only it counts toward the session's budget.
      db.session.update({
        where: { id: turn.session.id },
        data: { historyTokens: { increment: r.status === 'COMPLETE' ? estimateTokens(r.content) : 0 } },
      }),
    ]);
    return message;
  } catch (err) {
    throw (err as { code?: string })?.code === 'P2025' ? gone('The conversation was deleted while its reply was being generated') : err;
  }
}

async function runAfterHooks(input: ChatTurnInput, turn: TurnInfo, usage: TokenUsage, status: 'COMPLETE' | 'FAILED', assistantMessageId: string) {
  for (const hook of input.hooks ?? []) {
    try {
      await hook.afterGenerate?.({ ...turn, usage, status, assistantMessageId });
    } catch (err) {
      input.app.log.error({ err, assistantMessageId }, 'afterGenerate hook failed');
    }
  }
}
