/**
 * A deterministic token estimate (about four characters a token, at least one per word), used
 * wherever a provider reports no usage: the echo provider, history budgets, quotas.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const words = text.split(/\s+/).filter(Boolean).length;
  return Math.max(words, Math.ceil(text.length / 4));
}

/** Tokens of a list of messages, with a small per-message overhead like OpenAI's chat format. */
export function estimateMessagesTokens(messages: { content: string }[]): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content) + 4, 0);
}
