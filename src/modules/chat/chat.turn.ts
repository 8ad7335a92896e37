// What a chat turn is, shared by the turn (chat.service.ts), its generation (chat.generate.ts) and the
// domains that wrap turns (hooks.ts): types only.
import type { AppServices } from '../../context.ts';
import type { Message, Session } from '../../generated/sqlite/client.ts';
import type { ChatEvent } from './chat.topics.ts';
import type { ProviderName, TokenUsage, ToolDefinition } from './providers/index.ts';

/** What hooks learn about a turn. */
export interface TurnInfo {
  session: Session;
  threadId: string | null;
  orgId: string | null;
  authorId: string | null;
  model: string;
  provider: ProviderName;
  /** Estimated prompt tokens (history + the new message), before the provider reports real usage. */
  estimatedPromptTokens: number;
  /** The new message (prepaid screening reads it before the work). */
  content: string;
}

/**
 * Ways for other domains to wrap a turn (quotas, prepaid balances). Hooks run in order; a hook that
 * throws in `beforeGenerate` refuses the turn before anything is stored (throw RATE_LIMITED,
 * PAYMENT_REQUIRED…). `afterGenerate` runs once the reply has ended, also when it failed or was
 * cancelled (tokens were spent); its errors are logged, not thrown, because the reply is already stored.
 */
export interface ChatTurnHooks {
  beforeGenerate?(turn: TurnInfo): Promise<void> | void;
  afterGenerate?(turn: TurnInfo & { usage: TokenUsage; status: 'COMPLETE' | 'FAILED'; assistantMessageId: string }): Promise<void> | void;
}

export interface ChatTurnInput {
  app: AppServices;
  /** The session the messages go to (for a thread: from sessionForTurn, which rotates). */
  session: Session;
  threadId?: string | null;
  /** The org whose BYOK key pays for the call (falls back to the server key). */
  orgId?: string | null;
  authorId?: string | null;
  content: string;
  /** Null → the configured default; a model config does not allow → BAD_USER_INPUT. */
  model?: string | null;
  /** Makes retries idempotent: the same id from the same author returns the first turn. */
  clientMsgId?: string | null;
  /** Checked uploads (prepareAttachments) to attach to the user message, in its transaction. */
  attachmentIds?: string[];
  /** Extra system prompt (a thread's `system-prompt` contexts). */
  systemPrompt?: string | null;
  /** Tools the model may call during the reply (thread tool sources), if its provider supports tools. */
  tools?: ThreadTool[];
  /** Where events go (thread topic, session topic, or both); called only after writes commit. */
  publish(event: ChatEvent): void;
  hooks?: ChatTurnHooks[];
}

export interface ChatTurnResult {
  userMessage: Message;
  /** COMPLETE, or FAILED (provider error, cancel) with `error` set; never half-written and COMPLETE. */
  assistantMessage: Message;
  /** True when clientMsgId matched an earlier turn and nothing new was generated. */
  deduplicated: boolean;
}

/** A tool a domain offers the model on a thread; `run` acts with the rights of the user whose turn it is. */
export interface ThreadTool {
  definition: ToolDefinition;
  /** Returns the JSON result for the model; a thrown GraphQL error becomes `{ error, code }` for the model. */
  run(args: Record<string, unknown>): Promise<unknown>;
}
