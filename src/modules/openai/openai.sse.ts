import type { AppServices } from '../../context.ts';
import type { GenerateChunk, TokenUsage } from '../chat/providers/index.ts';

export const openaiUsage = (u: TokenUsage) => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

interface StreamArgs {
  id: string;
  created: number;
  model: string;
  first: IteratorResult<GenerateChunk>;
  chunks: AsyncIterator<GenerateChunk>;
  meter(text: string, usage?: TokenUsage): Promise<TokenUsage>;
  includeUsage: boolean;
  log: AppServices['log'];
}

/** SSE in OpenAI's format: a role chunk, content chunks, a finish chunk, the usage chunk if asked, `[DONE]`. */
export function streamResponse(a: StreamArgs): Response {
  const encoder = new TextEncoder();
  const base = { id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model };
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const send = (data: unknown) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(data)}\n\n`));
      const choice = (delta: object, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
      let text = '';
      let usage: TokenUsage | undefined;
      send(choice({ role: 'assistant', content: '' }));
      try {
        for (let r = a.first; !r.done; r = await a.chunks.next()) {
          if ('usage' in r.value) usage = r.value.usage;
          else if (r.value.delta) {
            text += r.value.delta;
            send(choice({ content: r.value.delta }));
          }
        }
        send(choice({}, 'stop'));
        const spent = await a.meter(text, usage);
        if (a.includeUsage) send({ ...base, choices: [], usage: openaiUsage(spent) });
      } catch (err) {
        await a.meter(text, usage);
        a.log.warn({ err: (err as Error).message, id: a.id }, 'completion stream failed');
        send({ error: { message: (err as Error).message, type: 'api_error', param: null, code: 'upstream_error' } });
      }
      controller.enqueue(encoder.encode('data: [DONE]\n\n'));
      controller.close();
    },
  });
  return new Response(stream, { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' } });
}
