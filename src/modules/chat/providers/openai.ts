import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatProvider, GenerateChunk, GenerateRequest, ProviderMessage, SummarizeRequest, ToolCall, ToolRoundMessage } from './types.ts';
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
    supportsTools: true,
    async *generate({ model, messages, tools, signal, apiKey, baseUrl, options = {} }: GenerateRequest): AsyncGenerator<GenerateChunk> {
      try {
        const sampling = {
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { top_p: options.topP } : {}),
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
          ...(options.stop?.length ? { stop: options.stop } : {}),
        };
        const stream = await client(apiKey, baseUrl).chat.completions.create(
          {
            model,
            messages: messages.map(toSdkMessage),
            stream: true,
            stream_options: { include_usage: true },
            ...(tools?.length ? { tools: tools.map((t) => ({ type: 'function' as const, function: t })) } : {}),
            ...sampling,
          },
          { signal },
        );
        // Tool calls arrive in pieces keyed by index: the id and name first, the arguments as text fragments.
        const calls: ToolCall[] = [];
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (delta?.content) yield { delta: delta.content };
          for (const part of delta?.tool_calls ?? []) {
            const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
            if (part.id) call.id = part.id;
            if (part.function?.name) call.name += part.function.name;
            if (part.function?.arguments) call.arguments += part.function.arguments;
          }
          if (chunk.usage) yield { usage: { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } };
        }
        const requested = calls.filter((c) => c?.name);
        if (requested.length) yield { toolCalls: requested };
      } catch (err) {
        throw asProviderError(err, signal);
      }
    },
    async generateImage({ model, prompt, signal, apiKey, baseUrl }) {
      try {
        // gpt-image models always answer in base64 and refuse response_format; DALL·E models need it.
        const format = model.startsWith('gpt-image') ? {} : { response_format: 'b64_json' as const };
        const res = await client(apiKey, baseUrl).images.generate({ model, prompt, n: 1, ...format }, { signal });
        const base64 = res.data?.[0]?.b64_json;
        if (!base64) throw new ProviderError('Provider error: the image response held no image');
        return { base64, contentType: 'image/png' };
      } catch (err) {
        throw err instanceof ProviderError ? err : asProviderError(err, signal);
      }
    },
    async analyzeImage({ model, prompt, imageUrl, signal, apiKey, baseUrl }) {
      try {
        const res = await client(apiKey, baseUrl).chat.completions.create(
          { model, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }, { type: 'image_url', image_url: { url: imageUrl } }] }] },
          { signal },
        );
        const text = res.choices[0]?.message?.content?.trim();
        if (!text) throw new ProviderError('Provider error: the vision response held no text');
        return { text, usage: { promptTokens: res.usage?.prompt_tokens ?? 0, completionTokens: res.usage?.completion_tokens ?? 0 } };
      } catch (err) {
        throw err instanceof ProviderError ? err : asProviderError(err, signal);
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

/** Our message shapes in the wire format (tool calls as `function` calls). */
function toSdkMessage(m: ProviderMessage | ToolRoundMessage): ChatCompletionMessageParam {
  if (m.role === 'tool') return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  if ('toolCalls' in m) {
    return { role: 'assistant', content: m.content || null, tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) };
  }
  // A user message with images: text first, then one image part each (OpenAI's vision format).
  if (m.role === 'user' && m.images?.length) {
    return { role: 'user', content: [{ type: 'text', text: m.content }, ...m.images.map((i) => ({ type: 'image_url' as const, image_url: { url: i.dataUrl } }))] };
  }
  return { role: m.role, content: m.content } as ChatCompletionMessageParam;
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
export const redact = (text: string) => text.replace(/\b(sk|cfk|key)[-_][\w-]{6,}/g, '[redacted]');
