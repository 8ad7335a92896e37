/** One message of the conversation as a provider sees it. */
export interface ProviderMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Images attached to a user message, for a vision-capable model only (models.vision); others get a note in `content`. */
  images?: ProviderImage[];
}

/** An image a user attached, as a data: URL (providers cannot reach Confab's own, possibly loopback, URLs). */
export interface ProviderImage {
  filename: string;
  contentType: string;
  width: number | null;
  height: number | null;
  dataUrl: string;
}

/** A tool the model may call: a name, what it is for, and JSON-schema parameters. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A call the model asked for; `arguments` is the model's JSON text (possibly invalid). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * The messages of a tool round, sent only to providers that support tools: the assistant's turn that
 * requested calls, and one result per call (JSON text) answering it by id.
 */
export type ToolRoundMessage = { role: 'assistant'; content: string; toolCalls: ToolCall[] } | { role: 'tool'; toolCallId: string; content: string };

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * A piece of a streamed reply: text to append, the token counts (once, usually last), or (at the end,
 * only when tools were offered) the calls the model requests instead of a final answer. Its `delta`
 * is never set, so callers that offer no tools read chunks as before.
 */
export type GenerateChunk = { delta: string } | { usage: TokenUsage } | { toolCalls: ToolCall[]; delta?: never };

export interface GenerateRequest {
  model: string;
  messages: (ProviderMessage | ToolRoundMessage)[];
  /** Tools offered to the model; only for providers with `supportsTools`. */
  tools?: ToolDefinition[];
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

export interface SummarizeRequest extends Omit<GenerateRequest, 'messages' | 'options' | 'tools'> {
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
export interface ChatProvider extends ImageCapabilities {
  readonly name: ProviderName;
  /** Whether a call needs an API key (so a missing one is a clear error before anything is stored). */
  readonly needsKey: boolean;
  /** Whether `generate` takes `tools` and may answer with tool calls (the OpenAI-compatible API does). */
  readonly supportsTools?: boolean;
  generate(request: GenerateRequest): AsyncIterable<GenerateChunk>;
  summarize(request: SummarizeRequest): Promise<string>;
}

/** What an image generation asks for; credentials as for chat. */
export interface ImageRequest extends Pick<GenerateRequest, 'model' | 'signal' | 'apiKey' | 'baseUrl'> {
  prompt: string;
}

/** A generated image, as base64 with its content type. */
export interface ImageResult {
  base64: string;
  contentType: string;
}

/** What an image analysis asks for: a prompt about one image (a data: URL or an https URL). */
export interface VisionRequest extends Pick<GenerateRequest, 'model' | 'signal' | 'apiKey' | 'baseUrl'> {
  prompt: string;
  imageUrl: string;
}

/**
 * Image abilities some providers have beside chat (KV image operations use them). A provider without
 * one makes the operation a BAD_USER_INPUT naming the model, before anything is spent.
 */
export interface ImageCapabilities {
  generateImage?(request: ImageRequest): Promise<ImageResult>;
  analyzeImage?(request: VisionRequest): Promise<{ text: string; usage: TokenUsage }>;
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
