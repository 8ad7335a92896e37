import type { AppServices } from '../../context.ts';
import { providerFor, providerNameFor } from '../chat/providers/index.ts';
import { estimateTokens } from '../chat/tokens.ts';
import { credentialsFor } from '../providerkeys/providerkeys.service.ts';
import type { TokenCounts } from './pricing.ts';

export interface Verdict {
  accepted: boolean;
  reason: string | null;
  usage: TokenCounts & { model: string };
}

const instructions = (blocked: string[]) =>
  'You screen requests to a paid assistant. Answer ACCEPT, or REJECT: <short reason> for requests that are abusive, ' +
  `illegal, or mention any of these words: ${blocked.join(', ') || '(none)'}.`;

/**
 * Asks the cheap screening model (`[screening] model`) whether to take a request. The echo provider
 * decides offline and deterministically: it refuses a request that contains a `blocked_words` entry.
 * Another provider is asked with a short instruction; an answer starting with REJECT refuses.
 */
export async function screen(app: AppServices, content: string, orgId: string | null): Promise<Verdict> {
  const { model, blockedWords } = app.config.screening;
  const name = providerNameFor(app.config, model);
  if (name === 'echo') {
    const hit = blockedWords.find((w) => content.toLowerCase().includes(w.toLowerCase()));
    const reason = hit ? `The request mentions "${hit}", which this service does not take` : null;
    const promptTokens = estimateTokens(instructions(blockedWords)) + estimateTokens(content);
    return { accepted: !hit, reason, usage: { model, promptTokens, completionTokens: estimateTokens(reason ? `REJECT: ${reason}` : 'ACCEPT') } };
  }
  const provider = providerFor(app.config, name);
  const creds = await credentialsFor(app, orgId, name, provider.needsKey);
  const messages = [
    { role: 'system' as const, content: instructions(blockedWords) },
    { role: 'user' as const, content },
  ];
  let text = '';
  let usage: TokenCounts | undefined;
  for await (const chunk of provider.generate({ model, messages, signal: AbortSignal.timeout(30_000), ...creds })) {
    if ('usage' in chunk) usage = chunk.usage;
    else text += chunk.delta;
  }
  return {
    ...verdictOf(text),
    usage: { model, ...(usage ?? { promptTokens: estimateTokens(messages.map((m) => m.content).join('\n')), completionTokens: estimateTokens(text) }) },
  };
}

/** A screening model's answer read as a verdict: REJECT (any case, after any whitespace), then an optional `:` and the reason. */
export function verdictOf(text: string): { accepted: boolean; reason: string | null } {
  if (!/^\s*REJECT/i.test(text)) return { accepted: true, reason: null };
  return { accepted: false, reason: text.replace(/^\s*REJECT\s*:?\s*/i, '').trim() || 'Declined by screening' };
}
