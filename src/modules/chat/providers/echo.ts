import { estimateMessagesTokens, estimateTokens } from '../tokens.ts';
import type { ChatProvider, GenerateChunk, GenerateRequest, ProviderImage, SummarizeRequest } from './types.ts';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/**
 * The offline provider: replies with the last user message, word by word (each delta a word with
 * its trailing space), so demos and tests get real streaming with a known result.
 */
export function echoProvider(opts: { delayMs?: number } = {}): ChatProvider {
  return {
    name: 'echo',
    needsKey: false,
    async *generate({ messages, signal }: GenerateRequest): AsyncGenerator<GenerateChunk> {
      const lastUser = [...messages].reverse().find((m) => m.role === 'user');
      const last = (lastUser?.content ?? '') + imagesNote(lastUser && 'images' in lastUser ? lastUser.images : undefined);
      const words = last.match(/\S+\s*/g) ?? [];
      for (const word of words) {
        if (opts.delayMs) await sleep(opts.delayMs, signal);
        signal?.throwIfAborted();
        yield { delta: word };
      }
      yield { usage: { promptTokens: estimateMessagesTokens(messages), completionTokens: estimateTokens(last) } };
    },
    async generateImage({ signal }) {
      signal?.throwIfAborted();
      return { base64: ECHO_PNG, contentType: 'image/png' };
    },
    async analyzeImage({ prompt, signal }) {
      signal?.throwIfAborted();
      return { text: ECHO_DESCRIPTION, usage: { promptTokens: estimateTokens(prompt), completionTokens: estimateTokens(ECHO_DESCRIPTION) } };
    },
    async summarize({ previous, messages, maxTokens }: SummarizeRequest) {
      const turns = messages.filter((m) => m.role !== 'system');
      const gist = turns.map((m) => `${m.role}: ${m.content.split(/\s+/).slice(0, 8).join(' ')}`).join(' | ');
      const text = `Summary of ${turns.length} earlier messages${previous ? ' (continuing an earlier summary)' : ''}: ${gist}`;
      return clip(text, maxTokens * 4);
    },
  };
}

/** What the offline provider says about the images it was given: "(received 1 image: cat.png (64×48))". */
function imagesNote(images?: ProviderImage[]): string {
  if (!images?.length) return '';
  const each = images.map((i) => (i.width && i.height ? `${i.filename} (${i.width}×${i.height})` : i.filename));
  return ` (received ${images.length} image${images.length === 1 ? '' : 's'}: ${each.join(', ')})`;
}

const clip = (text: string, chars: number) => (text.length <= chars ? text : `${text.slice(0, chars - 1)}…`);

/** The offline image: a valid 1×1 PNG, the same every time, so tests can compare it. */
export const ECHO_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
/** What the offline provider "sees" in any image. */
export const ECHO_DESCRIPTION = 'An image (described by the offline echo provider).';
