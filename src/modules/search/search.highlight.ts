export const HIGHLIGHT = { start: '<mark>', end: '</mark>' } as const;

const TOKEN = /[\p{L}\p{N}_]+/gu;
const fold = (word: string) => word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The words of a text as search compares them: decomposed, without marks, lower-case. */
export const words = (text: string): string[] => fold(text).match(TOKEN) ?? [];

const BEFORE = 4;
const WORDS = 16;

/**
 * The passage of `content` around its first matching word: up to 16 words, the matches wrapped in
 * <mark>, and … where it was cut. One pass over the message: FTS5's snippet() and PostgreSQL's
 * ts_headline grow with terms × matches (20 terms over a 32,000-character message took over a second a
 * row, and on SQLite that second is the server's one thread).
 */
export function highlightOf(content: string, terms: string[]): string {
  const wanted = new Set(terms.flatMap(words));
  const tokens = [...content.matchAll(TOKEN)];
  if (!tokens.length) return '';
  const from = Math.max(0, tokens.findIndex((m) => wanted.has(fold(m[0]))) - BEFORE);
  const to = Math.min(tokens.length, from + WORDS);
  let out = from > 0 ? '…' : '';
  let at = from > 0 ? tokens[from].index : 0;
  for (const m of tokens.slice(from, to)) {
    out += content.slice(at, m.index) + (wanted.has(fold(m[0])) ? `${HIGHLIGHT.start}${m[0]}${HIGHLIGHT.end}` : m[0]);
    at = m.index + m[0].length;
  }
  return to < tokens.length ? `${out}…` : out + content.slice(at);
}
