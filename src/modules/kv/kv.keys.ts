import { z } from 'zod';
import type { AppServices } from '../../context.ts';
import { db, Prisma } from '../../db/client.ts';
import { badInput, conflict, forbidden, notFound, parseInput } from '../../errors.ts';
import { commitChange, type KvActor } from './kv.service.ts';
import { keyToJson, type KvKeyJson, type KvKeyTypeName } from './kv.topics.ts';

const keyName = z.string().trim().min(1, 'is required').max(200);
const setInput = z.object({
  name: keyName,
  value: z.unknown(),
  type: z.enum(['TEXT', 'JSON', 'MARKDOWN', 'IMAGE']).nullish(),
  contentType: z.string().trim().max(100).nullish(),
  readonly: z.boolean().nullish(),
  visible: z.boolean().nullish(),
  hardcoded: z.boolean().nullish(),
  template: z.boolean().nullish(),
  tags: z.array(z.string().trim().min(1).max(100)).max(50).nullish(),
  ifVersion: z.number().int().min(0).nullish(),
});
const deleteInput = z.object({ name: keyName, ifVersion: z.number().int().min(0).nullish() });

export type SetKeyInput = Omit<z.input<typeof setInput>, 'value'> & { value?: unknown };

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+);base64,[A-Za-z0-9+/=\s]*$/;
const BASE64 = /^[a-z\d+/=\s]*$/i;

/** Checks the value against its type and the configured size bounds; an image's content type comes from a data URL if any. */
function checkValue(app: AppServices, type: KvKeyTypeName, value: unknown, contentType: string | null): string | null {
  if (value === undefined) throw badInput('value: is required', 'value');
  const max = type === 'IMAGE' ? app.config.kv.maxImageBytes : app.config.kv.maxValueBytes;
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > max) throw badInput(`value: must be at most ${max} bytes for a ${type} key (got ${size})`, 'value');
  if (type === 'JSON') return contentType;
  if (typeof value !== 'string') throw badInput(`value: a ${type} key holds a string`, 'value');
  if (type !== 'IMAGE') return contentType;
  const dataUrl = DATA_URL.exec(value);
  const ct = dataUrl?.[1] ?? contentType;
  if (!dataUrl && !BASE64.test(value)) throw badInput('value: an IMAGE key holds base64 or a data: URL', 'value');
  if (!ct?.startsWith('image/')) throw badInput('contentType: an IMAGE key needs an image/* content type', 'contentType');
  return ct;
}

const mayOverride = (actor: KvActor) => actor.access === 'ADMIN' || !!actor.editMode;

/**
 * Creates or replaces a key. Flags not given keep their stored values. A readonly key, and the
 * readonly flag itself, change only for an ADMIN or an AI operation in edit mode. `ifVersion` makes it
 * a compare-and-set: CONFLICT unless the key's version is still that (0: the key must not exist).
 */
export async function setKey(app: AppServices, instanceId: string, actor: KvActor, input: SetKeyInput): Promise<KvKeyJson> {
  const data = parseInput(setInput, input);
  const event = await commitChange(app, instanceId, async (tx, version) => {
    const existing = await tx.kvKey.findUnique({ where: { instanceId_name: { instanceId, name: data.name } } });
    if (data.ifVersion != null && (existing?.version ?? 0) !== data.ifVersion) {
      throw conflict(`Key "${data.name}" changed since version ${data.ifVersion}`, { currentVersion: existing?.version ?? 0 });
    }
    if (!mayOverride(actor)) {
      if (existing?.readonly) throw forbidden(`Key "${data.name}" is readonly: only an ADMIN (or the AI in edit mode) may change it`);
      if (data.readonly != null && data.readonly !== (existing?.readonly ?? false)) throw forbidden('Only an ADMIN may change the readonly flag');
    }
    const type = data.type ?? (existing?.type as KvKeyTypeName | undefined) ?? (typeof data.value === 'string' ? 'TEXT' : 'JSON');
    const contentType = checkValue(app, type, data.value, data.contentType ?? (data.type && data.type !== existing?.type ? null : (existing?.contentType ?? null)));
    const fields = {
      value: data.value === null ? Prisma.JsonNull : (data.value as Prisma.InputJsonValue),
      type,
      contentType,
      readonly: data.readonly ?? existing?.readonly ?? false,
      visible: data.visible ?? existing?.visible ?? true,
      hardcoded: data.hardcoded ?? existing?.hardcoded ?? false,
      template: data.template ?? existing?.template ?? false,
      tags: data.tags ? [...new Set(data.tags)] : ((existing?.tags as string[]) ?? []),
      version,
      updatedById: actor.userId,
    };
    const key = await tx.kvKey.upsert({
      where: { instanceId_name: { instanceId, name: data.name } },
      create: { instanceId, name: data.name, ...fields },
      update: fields,
    });
    return { kind: 'KeyUpdated', name: key.name, key: keyToJson(key) };
  });
  return event.key!;
}

/** Deletes a key (NOT_FOUND when absent); the same readonly and ifVersion rules as setKey. Returns the version of the deletion. */
export async function deleteKey(app: AppServices, instanceId: string, actor: KvActor, input: unknown): Promise<number> {
  const data = parseInput(deleteInput, input);
  const event = await commitChange(app, instanceId, async (tx) => {
    const existing = await tx.kvKey.findUnique({ where: { instanceId_name: { instanceId, name: data.name } } });
    if (!existing) throw notFound(`Key "${data.name}"`);
    if (data.ifVersion != null && existing.version !== data.ifVersion) {
      throw conflict(`Key "${data.name}" changed since version ${data.ifVersion}`, { currentVersion: existing.version });
    }
    if (existing.readonly && !mayOverride(actor)) throw forbidden(`Key "${data.name}" is readonly: only an ADMIN (or the AI in edit mode) may delete it`);
    await tx.kvKey.delete({ where: { id: existing.id } });
    return { kind: 'KeyDeleted', name: existing.name, key: null };
  });
  return event.version;
}

/** Removes every key (ADMIN, checked by the caller); one version, one Cleared event. */
export async function clearInstance(app: AppServices, instanceId: string): Promise<number> {
  const event = await commitChange(app, instanceId, async (tx) => {
    await tx.kvKey.deleteMany({ where: { instanceId } });
    return { kind: 'Cleared', name: null, key: null };
  });
  return event.version;
}

/** Keys of an instance by name order, optionally only those with a tag. */
export async function listKeys(instanceId: string, opts: { tag?: string | null; names?: string[] | null } = {}): Promise<KvKeyJson[]> {
  const rows = await db.kvKey.findMany({ where: { instanceId, ...(opts.names ? { name: { in: opts.names } } : {}) }, orderBy: { name: 'asc' } });
  const keys = rows.map(keyToJson);
  return opts.tag ? keys.filter((k) => k.tags.includes(opts.tag!)) : keys;
}

export async function getKey(instanceId: string, name: string): Promise<KvKeyJson | null> {
  const row = await db.kvKey.findUnique({ where: { instanceId_name: { instanceId, name } } });
  return row ? keyToJson(row) : null;
}

/**
 * One page of an instance's keys by name (`after`/`before` are key names, exclusive; `inverted` reads
 * backwards from `before`), optionally only keys carrying `tag`. Tags are stored as JSON, which the two
 * databases filter differently, so a tag is matched here, over names and tags only, before the page is read.
 */
export async function keyPage(
  instanceId: string,
  page: { after?: string; before?: string; limit: number; inverted: boolean; tag?: string | null },
): Promise<KvKeyJson[]> {
  const tagged = page.tag ? await namesTagged(instanceId, page.tag) : null;
  const name = { ...(page.after != null ? { gt: page.after } : {}), ...(page.before != null ? { lt: page.before } : {}), ...(tagged ? { in: tagged } : {}) };
  const rows = await db.kvKey.findMany({ where: { instanceId, name }, orderBy: { name: page.inverted ? 'desc' : 'asc' }, take: page.limit });
  return rows.map(keyToJson);
}

/** How many keys the instance has (with `tag`, carrying it). */
export async function keyCount(instanceId: string, tag?: string | null): Promise<number> {
  return tag ? (await namesTagged(instanceId, tag)).length : db.kvKey.count({ where: { instanceId } });
}

async function namesTagged(instanceId: string, tag: string): Promise<string[]> {
  const rows = await db.kvKey.findMany({ where: { instanceId }, select: { name: true, tags: true } });
  return rows.filter((r) => ((r.tags as string[]) ?? []).includes(tag)).map((r) => r.name);
}
