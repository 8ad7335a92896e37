import { db } from '../../db/client.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import type { ProviderMessage } from './providers/index.ts';
import { estimateTokens } from './tokens.ts';

/** Rows read from the end of a session; more than any budget would keep. */
const WINDOW = 200;

/**
 * What the model is sent: the system prompt (contexts), the session's carried-over summary, then the
 * most recent complete messages of the session that fit in `budget` tokens, newest kept first. The
 * newest message (the one being answered) is always kept, whatever its size.
 */
export async function buildHistory(session: Pick<Session, 'id' | 'summary'>, opts: { budget: number; systemPrompt?: string | null }): Promise<ProviderMessage[]> {
  const system: ProviderMessage[] = [];
  if (opts.systemPrompt) system.push({ role: 'system', content: opts.systemPrompt });
  if (session.summary) system.push({ role: 'system', content: `Summary of the conversation so far: ${session.summary}` });
  let left = opts.budget - system.reduce((n, m) => n + estimateTokens(m.content), 0);

  const rows = await db.message.findMany({
    where: { sessionId: session.id, status: 'COMPLETE' },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: WINDOW,
    select: { role: true, content: true, promptTokens: true, completionTokens: true },
  });
  const kept: ProviderMessage[] = [];
  for (const row of rows) {
    const cost = estimateTokens(row.content);
    if (kept.length && cost > left) break;
    left -= cost;
    kept.push({ role: row.role === 'USER' ? 'user' : row.role === 'ASSISTANT' ? 'assistant' : 'system', content: row.content });
  }
  return [...system, ...kept.reverse()];
}
