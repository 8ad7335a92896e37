import OpenAI from 'openai';
import type { ChatProvider, GenerateChunk, GenerateRequest, SummarizeRequest } from './types.ts';
import { ProviderError } from './types.ts';

const SUMMARY_PROMPT =
  'Summarize the conversation so far in a few sentences, keeping names, facts, decisions and open questions. ' +
  'The summary replaces the history for the rest of the conversation.';

/** Any OpenAI-compatible HTTP API, through the official SDK (streaming, with usage in the last chunk). */
export function openaiProvider(defaults: { baseUrl: string; timeoutMs: number }): ChatProvider {
  const client = (apiKey?: string, baseUrl?: string) =>
    new OpenAI({ apiKey: apiKey ?? 'missing', baseURL: baseUrl ?? defaults.baseUrl, timeout: defaults.timeoutMs, maxRetries: 0 });

  return {
    name: 'openai',
    needsKey: true,
    async *generate({ model, messages, signal, apiKey, baseUrl, options = {} }: GenerateRequest): AsyncGenerator<GenerateChunk> {
      try {
        const sampling = {
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { top_p: options.topP } : {}),
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
          ...(options.stop?.length ? { stop: options.stop } : {}),
        };
        const stream = await client(apiKey, baseUrl).chat.completions.create(
          { model, messages, stream: true, stream_options: { include_usage: true }, ...sampling },
          { signal },
        );
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta?.content;
          if (delta) yield { delta };
          if (chunk.usage) yield { usage: { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } };
        }
      } catch (err) {
        throw asProviderError(err, signal);
      }
    },
    async summarize({ model, messages, previous, maxTokens, signal, apiKey, baseUrl }: SummarizeRequest) {
      try {
        const res = await client(apiKey, baseUrl).chat.completions.create(
          {
            model,
            max_tokens: maxTokens,
            messages: [
              { role: 'system', content: SUMMARY_PROMPT },
              ...(previous ? [{ role: 'system' as const, content: `Earlier summary: ${previous}` }] : []),
              ...messages,
            ],
          },
          { signal },
        );
        return res.choices[0]?.message?.content?.trim() ?? '';
      } catch (err) {
        throw asProviderError(err, signal);
      }
    },
  };
}

/** SDK errors carry the upstream status and body; the message we keep names the status only, never the key. */
function asProviderError(err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  if (err instanceof OpenAI.APIError) {
    const detail = (err.error as { message?: string } | undefined)?.message ?? err.message;
    return new ProviderError(`Provider error${err.status ? ` ${err.status}` : ''}: ${redact(detail)}`, err.status);
  }
  return new ProviderError(`Provider error: ${redact((err as Error)?.message ?? String(err))}`);
}

/** Upstreams sometimes echo the key they were given ("Incorrect API key provided: sk-…"). */
const redact = (text: string) => text.replace(/\b(sk|cfk|key)[-_][A-Za-z0-9_-]{6,}/g, '[redacted]');
