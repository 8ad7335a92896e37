/** One message of the conversation as a provider sees it. */
export interface ProviderMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A piece of a streamed reply: text to append, or the token counts (once, usually last). */
export type GenerateChunk = { delta: string } | { usage: TokenUsage };

export interface GenerateRequest {
  model: string;
  messages: ProviderMessage[];
  /** Aborting stops the stream; the iterator then throws an AbortError. */
  signal?: AbortSignal;
  /** The key to call with (BYOK or the server's); providers that need none ignore it. */
  apiKey?: string;
  baseUrl?: string;
  /** Sampling options passed through to providers that take them (the OpenAI-compatible API sends them). */
  options?: GenerateOptions;
}

export interface GenerateOptions {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
}

export interface SummarizeRequest extends Omit<GenerateRequest, 'messages' | 'options'> {
  /** The summary being replaced (from the session before), if any. */
  previous?: string | null;
  messages: ProviderMessage[];
  /** A soft limit, in tokens. */
  maxTokens: number;
}

/**
 * An LLM behind one small interface, chosen per model. `generate` streams the reply; `summarize`
 * condenses a session's history into the carried-over summary of the next session.
 */
export interface ChatProvider {
  readonly name: ProviderName;
  /** Whether a call needs an API key (so a missing one is a clear error before anything is stored). */
  readonly needsKey: boolean;
  generate(request: GenerateRequest): AsyncIterable<GenerateChunk>;
  summarize(request: SummarizeRequest): Promise<string>;
}

export type ProviderName = 'echo' | 'openai';
export const PROVIDER_NAMES = ['echo', 'openai'] as const satisfies readonly ProviderName[];

/** The provider failed (HTTP error, broken stream): reported on the assistant message, never as a crash. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
