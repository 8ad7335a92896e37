import { db } from '../../db/client.ts';
import type { AppServices } from '../../context.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import { isImage, readAttachment, type Attachment } from '../attachments/attachments.service.ts';
import { supportsVision, type ProviderImage, type ProviderMessage } from './providers/index.ts';
import { estimateTokens } from './tokens.ts';

/** Rows read from the end of a session; more than any budget would keep. */
const WINDOW = 200;

/**
 * What the model is sent: the system prompt (contexts), the session's carried-over summary, then the
 * most recent complete messages of the session that fit in `budget` tokens, newest kept first. The
 * newest message (the one being answered) is always kept, whatever its size. Attachments of user messages
 * come along (withAttachments): images as image parts for a vision model (models.vision), everything else as
 * a note in the text.
 */
export async function buildHistory(
  session: Pick<Session, 'id' | 'summary'>,
  opts: { budget: number; systemPrompt?: string | null; app?: AppServices; model?: string },
): Promise<ProviderMessage[]> {
  const system: ProviderMessage[] = [];
  if (opts.systemPrompt) system.push({ role: 'system', content: opts.systemPrompt });
  if (session.summary) system.push({ role: 'system', content: `Summary of the conversation so far: ${session.summary}` });
  let left = opts.budget - system.reduce((n, m) => n + estimateTokens(m.content), 0);

  const rows = await db.message.findMany({
    where: { sessionId: session.id, status: 'COMPLETE' },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: WINDOW,
    select: { id: true, role: true, content: true, promptTokens: true, completionTokens: true },
  });
  const kept: (ProviderMessage & { id: string })[] = [];
  for (const row of rows) {
    const cost = estimateTokens(row.content);
    if (kept.length && cost > left) break;
    left -= cost;
    kept.push({ id: row.id, role: row.role === 'USER' ? 'user' : row.role === 'ASSISTANT' ? 'assistant' : 'system', content: row.content });
  }
  const messages = opts.app && opts.model ? await withAttachments(opts.app, opts.model, kept) : kept;
  return [...system, ...messages.reverse().map(({ id: _id, ...m }) => m)];
}

/** The user messages' attachments, one query for all of them. */
async function withAttachments(app: AppServices, model: string, messages: (ProviderMessage & { id: string })[]) {
  const ids = messages.filter((m) => m.role === 'user').map((m) => m.id);
  if (!ids.length) return messages;
  const rows = await db.attachment.findMany({ where: { threadMessageId: { in: ids }, status: 'READY' }, orderBy: [{ position: 'asc' }, { createdAt: 'asc' }] });
  if (!rows.length) return messages;
  const vision = supportsVision(app.config, model);
  const byMessage = new Map<string, Attachment[]>();
  for (const r of rows) byMessage.set(r.threadMessageId!, [...(byMessage.get(r.threadMessageId!) ?? []), r]);
  return Promise.all(
    messages.map(async (m) => {
      const files = byMessage.get(m.id);
      if (!files) return m;
      const images: ProviderImage[] = [];
      const notes: string[] = [];
      for (const a of files) {
        if (vision && isImage(a)) {
          const bytes = await readAttachment(app, a);
          images.push({ filename: a.filename, contentType: a.contentType, width: a.width, height: a.height, dataUrl: `data:${a.contentType};base64,${bytes.toString('base64')}` });
        } else notes.push(isImage(a) ? `[image: ${a.filename}]` : `[attachment: ${a.filename} (${a.contentType}, ${a.byteSize} bytes)]`);
      }
      return { ...m, content: [m.content, ...notes].join('\n'), ...(images.length ? { images } : {}) };
    }),
  );
}
