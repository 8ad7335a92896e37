import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';

/**
 * `{{`, then at least one character that is no brace, then `}}`; the name is trimmed in code. One
 * quantifier, bounded on both sides by braces it cannot match, so matching is linear in the text: the
 * former `\{\{\s*([^{}]+?)\s*\}\}` had three quantifiers that all matched whitespace, and an unclosed
 * `{{` followed by spaces cost about n³ steps (test/regex-worst-case.test.ts).
 */
const VAR = /\{\{([^{}]+)\}\}/g;
const nameOf = (inner: string) => inner.trim();

export const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Replaces each `{{key}}` with that key's value, in one pass: a value that itself holds `{{…}}` stays
 * as it is (no recursive expansion, so keys cannot loop or smuggle other keys in). Unknown keys are a
 * BAD_USER_INPUT naming all of them.
 */
export async function resolveTemplate(instanceId: string, text: string, field: string): Promise<string> {
  const names = [...new Set([...text.matchAll(VAR)].map((m) => nameOf(m[1])))];
  if (!names.length) return text;
  const keys = await db.kvKey.findMany({ where: { instanceId, name: { in: names } }, select: { name: true, value: true } });
  const byName = new Map(keys.map((k) => [k.name, k.value]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length) throw badInput(`Unknown keys in ${field}: ${unknown.join(', ')}`, field);
  return text.replace(VAR, (_m, inner: string) => asText(byName.get(nameOf(inner))));
}

/** Exactly one of a text given directly or the name of a key holding it; the key must exist. */
export async function textOrKey(instanceId: string, direct: string | null | undefined, keyName: string | null | undefined, field: string, required: boolean): Promise<string | null> {
  if (direct != null && keyName != null) throw badInput(`Give either ${field} or ${field}Key, not both`, field);
  if (direct != null) return direct;
  if (keyName == null) {
    if (required) throw badInput(`Give ${field} or ${field}Key`, field);
    return null;
  }
  const key = await db.kvKey.findUnique({ where: { instanceId_name: { instanceId, name: keyName } }, select: { value: true } });
  if (!key) throw badInput(`Unknown key in ${field}Key: ${keyName}`, `${field}Key`);
  return asText(key.value);
}
