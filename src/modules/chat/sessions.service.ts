import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import type { Session, Thread } from '../../generated/sqlite/client.ts';
import { credentialsFor } from '../providerkeys/providerkeys.service.ts';
import { providerFor, providerNameFor, type ProviderMessage } from './providers/index.ts';
import { estimateTokens } from './tokens.ts';

/** Soft length of a carried-over summary, in tokens. */
const SUMMARY_TOKENS = 200;
/** At most this many of the old session's latest messages are summarized. */
const SUMMARY_SOURCE_MESSAGES = 60;

/** When a new thread session expires. */
export const expiresFrom = (app: AppServices, now = Date.now()) => new Date(now + app.config.sessions.ttl * 1000);

/** Whether a thread's session must give way to a new one before the next message. */
export function needsRotation(app: AppServices, session: Session, now = new Date()): boolean {
  if (session.prepaid) return false; // prepaid sessions run their own life cycle (issue 5)
  if (session.state !== 'ACTIVE') return true;
  if (session.expiresAt && session.expiresAt <= now) return true;
  return session.historyTokens >= app.config.sessions.tokenBudget;
}

/**
 * The session a thread's next message goes to: the current one, a first one, or, when the current
 * one is over its token budget or expired, a new one that starts with a summary of the old (asked
 * of the model the turn uses, or with `offlineSummary` a plain digest: storing messages as-is never calls
 * a model). Concurrent callers agree on one winner: the switch is a conditional
 * update of `Thread.currentSessionId`.
 */
export async function sessionForTurn(app: AppServices, thread: Thread, model: string, opts: { offlineSummary?: boolean } = {}): Promise<Session> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = thread.currentSessionId ? await db.session.findUnique({ where: { id: thread.currentSessionId } }) : null;
    if (current && !needsRotation(app, current)) return current;
    const summary = current ? await summarizeSession(app, thread.orgId, current, opts.offlineSummary ? null : model) : null;
    const next = await db.session.create({
      data: {
        threadId: thread.id,
        orgId: thread.orgId,
        ownerId: thread.createdById,
        index: (current?.index ?? 0) + 1,
        summary,
        historyTokens: summary ? estimateTokens(summary) : 0,
        expiresAt: expiresFrom(app),
      },
    });
    const won = await db.thread.updateMany({
      where: { id: thread.id, currentSessionId: thread.currentSessionId },
      data: { currentSessionId: next.id },
    });
    if (won.count) {
      if (current) await db.session.update({ where: { id: current.id }, data: { state: 'CLOSED', closedAt: new Date() } });
      return next;
    }
    await db.session.delete({ where: { id: next.id } });
    thread = await db.thread.findUniqueOrThrow({ where: { id: thread.id } });
  }
  throw new Error(`Could not settle the session of thread ${thread.id}`);
}

/**
 * The carried-over summary of a session. When the provider cannot be asked (no key, an error),
 * a plain deterministic digest stands in, so rotation never blocks a conversation.
 */
async function summarizeSession(app: AppServices, orgId: string, session: Session, model: string | null): Promise<string> {
  const rows = await db.message.findMany({
    where: { sessionId: session.id, status: 'COMPLETE', role: { in: ['USER', 'ASSISTANT'] } },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: SUMMARY_SOURCE_MESSAGES,
  });
  const messages: ProviderMessage[] = rows.reverse().map((m) => ({ role: m.role === 'USER' ? 'user' : 'assistant', content: m.content }));
  const digest = () => providerFor(app.config, 'echo').summarize({ model: model ?? 'digest', messages, previous: session.summary, maxTokens: SUMMARY_TOKENS });
  if (!model) return digest();
  const name = providerNameFor(app.config, model);
  const provider = providerFor(app.config, name);
  try {
    const creds = await credentialsFor(app, orgId, name, provider.needsKey);
    const text = await provider.summarize({ model, messages, previous: session.summary, maxTokens: SUMMARY_TOKENS, ...creds });
    if (text) return text;
  } catch (err) {
    app.log.warn({ err: (err as Error).message, sessionId: session.id }, 'summary failed; using a digest');
  }
  return digest();
}
