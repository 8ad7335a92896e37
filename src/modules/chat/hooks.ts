import type { Context } from '../../context.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import type { ChatTurnHooks, ThreadTool } from './chat.turn.ts';

/** Gives hooks for a turn in this session, or nothing. */
export type SessionHooksFactory = (ctx: Context, session: Session) => ChatTurnHooks | undefined | Promise<ChatTurnHooks | undefined>;

const factories: SessionHooksFactory[] = [];

/**
 * Lets another domain wrap thread turns without editing the chat domain: the prepaid domain
 * (issue 5) registers a factory that returns balance checks and debits when `session.prepaid`.
 * Given in the domain's module definition (`chat: { sessionHooks }`).
 */
export function registerSessionHooks(factory: SessionHooksFactory) {
  factories.push(factory);
}

export async function sessionHooks(ctx: Context, session: Session): Promise<ChatTurnHooks[]> {
  const hooks = await Promise.all(factories.map((f) => f(ctx, session)));
  return hooks.filter((h): h is ChatTurnHooks => !!h);
}

/** Gives more system prompt for a thread (after its context tree), or nothing. */
export type SystemPromptSource = (threadId: string) => Promise<string | null>;

const promptSources: SystemPromptSource[] = [];

/**
 * Lets another domain add to a thread's system prompt without editing the chat domain: the KV domain
 * adds the `SystemPrompt` keys of instances attached to the thread. Given in the module definition (`chat: { systemPrompt }`).
 */
export function registerSystemPromptSource(source: SystemPromptSource) {
  promptSources.push(source);
}

/** The context tree's prompt, then each registered source's, joined by blank lines. */
export async function threadSystemPrompt(threadId: string, contextPrompt: string | null): Promise<string | null> {
  const parts = [contextPrompt, ...(await Promise.all(promptSources.map((s) => s(threadId))))].filter((p): p is string => !!p);
  return parts.length ? parts.join('\n\n') : null;
}

/** Gives the tools a thread offers to `ctx`'s user (none: an empty list). */
export type ThreadToolSource = (ctx: Context, threadId: string) => Promise<ThreadTool[]>;

const toolSources: ThreadToolSource[] = [];

/**
 * Lets another domain give the model tools on a thread without editing the chat domain: the KV domain
 * offers read_key/write_key/delete_key/list_keys over the thread's attached instances. Given in the module definition
 * (`chat: { threadTools }`).
 */
export function registerThreadToolSource(source: ThreadToolSource) {
  toolSources.push(source);
}

/** Every registered source's tools for this thread and user; the first tool of a name wins. */
export async function threadTools(ctx: Context, threadId: string): Promise<ThreadTool[]> {
  const all = (await Promise.all(toolSources.map((s) => s(ctx, threadId)))).flat();
  return all.filter((t, i) => all.findIndex((o) => o.definition.name === t.definition.name) === i);
}

/** What a module adds to chat turns (its definition's `chat`). */
export interface ChatExtensions {
  /** Wraps turns of some sessions (registerSessionHooks). */
  sessionHooks?: SessionHooksFactory;
  /** Adds to a thread's system prompt (registerSystemPromptSource). */
  systemPrompt?: SystemPromptSource;
  /** Offers the model tools on a thread (registerThreadToolSource). */
  threadTools?: ThreadToolSource;
}

declare module '../../app-module.ts' {
  interface ModuleExtensions {
    /** What this module adds to chat turns in threads and sessions (src/modules/chat/hooks.ts). */
    chat?: ChatExtensions;
  }
}

/** Registers what the listed modules add to chat turns, in list order; src/modules/index.ts calls it once. */
export function registerChatExtensions(modules: readonly { chat?: ChatExtensions }[]) {
  for (const { chat } of modules) {
    if (chat?.sessionHooks) registerSessionHooks(chat.sessionHooks);
    if (chat?.systemPrompt) registerSystemPromptSource(chat.systemPrompt);
    if (chat?.threadTools) registerThreadToolSource(chat.threadTools);
  }
}
