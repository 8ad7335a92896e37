import { GraphQLError } from 'graphql';
import type { AppServices } from '../../context.ts';
import type { ThreadTool } from './chat.turn.ts';
import type { ToolCall, ToolRoundMessage } from './providers/index.ts';

/** Tool rounds one reply may take; the request after the last is made without tools, so the model must answer. */
export const MAX_TOOL_ROUNDS = 5;

/** What the assistant message's metadata keeps of each call (not the results: they may be large). */
export interface ToolLogEntry {
  name: string;
  arguments: unknown;
  error?: string;
}

/**
 * Runs the calls the model requested, one after another (writes keep the model's order), and gives the
 * messages that answer them: the assistant's request, then one `tool` result per call. A failing call
 * (unknown tool, bad JSON, a refused or invalid operation) answers `{ error, code }`: the model hears of
 * it and the turn goes on.
 */
export async function runToolCalls(app: AppServices, tools: ThreadTool[], calls: ToolCall[], text: string, log: ToolLogEntry[]): Promise<ToolRoundMessage[]> {
  const messages: ToolRoundMessage[] = [{ role: 'assistant', content: text, toolCalls: calls }];
  for (const call of calls) {
    const { args, result } = await runOne(app, tools, call);
    messages.push({ role: 'tool', toolCallId: call.id, content: JSON.stringify(result ?? null) });
    const error = (result as { error?: unknown } | null)?.error;
    log.push({ name: call.name, arguments: args, ...(typeof error === 'string' ? { error } : {}) });
  }
  return messages;
}

async function runOne(app: AppServices, tools: ThreadTool[], call: ToolCall): Promise<{ args: unknown; result: unknown }> {
  const tool = tools.find((t) => t.definition.name === call.name);
  if (!tool) return { args: call.arguments, result: { error: `Unknown tool "${call.name}"`, code: 'BAD_USER_INPUT' } };
  let args: unknown;
  try {
    args = call.arguments.trim() ? JSON.parse(call.arguments) : {};
  } catch {
    return { args: call.arguments, result: { error: 'The arguments are not valid JSON', code: 'BAD_USER_INPUT' } };
  }
  if (!args || typeof args !== 'object' || Array.isArray(args)) return { args, result: { error: 'The arguments must be a JSON object', code: 'BAD_USER_INPUT' } };
  try {
    return { args, result: await tool.run(args as Record<string, unknown>) };
  } catch (err) {
    if (err instanceof GraphQLError) return { args, result: { error: err.message, code: err.extensions?.code ?? 'INTERNAL' } };
    app.log.error({ err, tool: call.name }, 'tool call failed');
    return { args, result: { error: 'The tool failed', code: 'INTERNAL' } };
  }
}
