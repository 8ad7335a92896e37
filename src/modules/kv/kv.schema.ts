import { encodeGlobalID, resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder, MAX_PAGE_SIZE } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { instanceAccess } from './kv.access.ts';
import { clearInstance, deleteKey, getKey, keyCount, keyPage, setKey } from './kv.keys.ts';
import * as kv from './kv.service.ts';
import type { KvKeyJson } from './kv.topics.ts';

export const KvKeyType = builder.enumType('KvKeyType', {
  description: 'What a key holds, which decides how its value is checked and shown.',
  values: {
    TEXT: { description: 'A plain-text string.' },
    JSON: { description: 'Any JSON value (object, array, string, number, boolean or null).' },
    MARKDOWN: { description: 'A Markdown string.' },
    IMAGE: { description: 'An image as base64 or a `data:` URL, with an `image/*` content type.' },
  } as const,
});

function userById(ctx: Context, id: string) {
  return ctx
    .loader<string, any>('kvUserById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      return ids.map((i) => rows.find((u) => u.id === i) ?? null);
    })
    .load(id);
}

/**
 * A key's global id names its instance and its name (`KvKey:<instanceId>:<name>`), not its row: it is
 * the same in a mutation's answer, in kvEvents (whose log stores no row id) and after the key is deleted
 * and set again, so a client's cache keeps one entry per key.
 */
export const kvKeyRawId = (instanceId: string, name: string) => `${instanceId}:${name}`;
export const kvKeyGlobalId = (instanceId: string, name: string) => encodeGlobalID('KvKey', kvKeyRawId(instanceId, name));

function parseKvKeyRawId(raw: string): { instanceId: string; name: string } | null {
  const at = raw.indexOf(':');
  return at > 0 && at < raw.length - 1 ? { instanceId: raw.slice(0, at), name: raw.slice(at + 1) } : null;
}

/** A cursor of KvInstance.keys: the key's name, opaque to clients. */
const keyCursor = (name: string) => Buffer.from(`KvKeyCursor:${name}`).toString('base64');
function nameOfCursor(cursor: string | undefined, field: 'after' | 'before'): string | undefined {
  if (cursor == null) return undefined;
  const decoded = Buffer.from(cursor, 'base64').toString();
  if (!decoded.startsWith('KvKeyCursor:') || keyCursor(decoded.slice('KvKeyCursor:'.length)) !== cursor) throw badInput(`${field} is not a cursor of this list`, field);
  return decoded.slice('KvKeyCursor:'.length);
}

/** A key, from a row or from an event (the same JSON shape either way). */
export const KvKeyRef = builder.node(builder.objectRef<KvKeyJson>('KvKey'), {
  description: 'One key of a KV instance: a named value with its type, flags and the version of its last change.',
  id: { resolve: (k) => kvKeyRawId(k.instanceId, k.name), description: 'The key\'s global id: the same for the same instance and name, also after the key is deleted and set again.' },
  loadOne: (raw) => {
    const parsed = parseKvKeyRawId(raw);
    return parsed ? getKey(parsed.instanceId, parsed.name) : null;
  },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The key\'s name, unique within its instance (1 to 200 characters).' }),
    value: t.field({ type: 'JSON', nullable: true, description: 'The value: a string for TEXT, MARKDOWN and IMAGE keys, any JSON for JSON keys.', resolve: (k) => k.value }),
    type: t.field({ type: KvKeyType, description: 'What the value holds.', resolve: (k) => k.type }),
    contentType: t.exposeString('contentType', { nullable: true, description: 'The MIME type of the value, if known (always `image/*` for an IMAGE key).' }),
    readonly: t.exposeBoolean('readonly', { description: 'Changed only by an ADMIN of the instance or by an AI operation in edit mode.' }),
    visible: t.exposeBoolean('visible', { description: 'Whether a client should show the key; stored for clients, Confab does not act on it.' }),
    hardcoded: t.exposeBoolean('hardcoded', { description: 'Marks a key the application defines rather than its users; stored for clients, Confab does not act on it.' }),
    template: t.exposeBoolean('template', { description: 'Marks a value holding `{{key}}` variables, for clients that resolve them; stored as given.' }),
    tags: t.exposeStringList('tags', { description: 'Free-form labels. Keys tagged `SystemPrompt` join the system prompt of threads the instance is attached to.' }),
    version: t.exposeInt('version', { description: 'The instance version of the last change; pass it as `ifVersion` to update only if unchanged.' }),
    updatedAt: t.field({ type: 'DateTime', description: 'When the key was last changed.', resolve: (k) => new Date(k.updatedAt) }),
    updatedBy: t.field({
      type: UserRef,
      nullable: true,
      description: 'Who changed the key last; null when that user is gone.',
      resolve: (k, _a, ctx) => (k.updatedById ? userById(ctx, k.updatedById) : null),
    }),
  }),
});

builder.prismaNode('KvInstance', {
  description: 'A live key-value store in a project: browsers, agents and the AI share its keys, and every change has a version that kvEvents delivers.',
  id: { field: 'id', description: 'The instance\'s global id.' },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The instance\'s name (1 to 200 characters; not unique).' }),
    version: t.exposeInt('lastVersion', { description: 'The version of the last change (0 before any); kvEvents resumes after it.' }),
    project: t.relation('project', { description: 'The project the instance belongs to; its shares decide who may read and change the instance.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the instance was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the instance was last renamed or had a key changed.' }),
    keys: t.connection(
      {
        type: KvKeyRef,
        description: 'The instance\'s keys by name; with `tag`, only keys carrying it. BAD_USER_INPUT for a cursor this field did not issue.',
        args: { tag: t.arg.string({ description: 'Only keys carrying this tag (exact match).' }) },
        resolve: async (i, args) => {
          const connection = await resolveCursorConnection(
            { args, defaultSize: 20, maxSize: MAX_PAGE_SIZE, toCursor: (k: KvKeyJson) => keyCursor(k.name) },
            (page: ResolveCursorConnectionArgs) =>
              keyPage(i.id, { after: nameOfCursor(page.after, 'after'), before: nameOfCursor(page.before, 'before'), limit: page.limit, inverted: page.inverted, tag: args.tag }),
          );
          return { ...connection, totalCount: () => keyCount(i.id, args.tag) };
        },
      },
      {
        name: 'KvKeyConnection',
        description: 'A page of KV keys.',
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many keys there are across all pages (with `tag`, carrying it).',
            resolve: (conn) => (conn as unknown as { totalCount: () => Promise<number> }).totalCount(),
          }),
        }),
      },
      { name: 'KvKeyEdge', description: 'A KV key and its cursor.' },
    ),
    key: t.field({
      type: KvKeyRef,
      nullable: true,
      description: 'One key by name; null when the instance has no such key.',
      args: { name: t.arg.string({ required: true, description: 'The key\'s name.' }) },
      resolve: (i, args) => getKey(i.id, args.name),
    }),
  }),
});

builder.prismaObjectField('Project', 'kvInstances', (t) =>
  t.relatedConnection(
    'kvInstances',
    { cursor: 'id', totalCount: true, description: 'KV instances of the project, oldest first.', query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
    {
      name: 'KvInstanceConnection',
      description: 'A page of KV instances.',
      // The plugin's own totalCount field, with a description (the extension makes the plugin select the count).
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many KV instances the project has, across all pages.',
          extensions: { pothosPrismaTotalCount: true },
          resolve: (parent) => (parent as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'KvInstanceEdge', description: 'A KV instance and its cursor.' },
  ),
);

const kvInstanceIdDoc = (what: string) => `The KV instance ${what}. NOT_FOUND when it does not exist or the viewer cannot see it.`;
const ifVersionDoc = (what: string) => `${what} only if the key is still at this version (0: only if it does not exist); CONFLICT (with \`currentVersion\`) otherwise.`;

const CreateKvInstanceInput = builder.inputType('CreateKvInstanceInput', {
  description: 'A new KV instance. Needs WRITE access to the project.',
  fields: (t) => ({
    projectId: t.id({ required: true, description: 'The project the instance belongs to. NOT_FOUND when the viewer cannot see it.' }),
    name: t.string({ required: true, description: 'The instance\'s name, 1 to 200 characters (trimmed); BAD_USER_INPUT otherwise.' }),
  }),
});
const UpdateKvInstanceInput = builder.inputType('UpdateKvInstanceInput', {
  description: 'Renames a KV instance. Needs WRITE access.',
  fields: (t) => ({
    kvInstanceId: t.id({ required: true, description: kvInstanceIdDoc('to rename') }),
    name: t.string({ required: true, description: 'The new name, 1 to 200 characters (trimmed); BAD_USER_INPUT otherwise.' }),
  }),
});
const DeleteKvInstanceInput = builder.inputType('DeleteKvInstanceInput', {
  description: 'Deletes a KV instance with its keys, its event log and its thread attachments. Needs ADMIN access.',
  fields: (t) => ({ kvInstanceId: t.id({ required: true, description: kvInstanceIdDoc('to delete') }) }),
});
const ClearKvInstanceInput = builder.inputType('ClearKvInstanceInput', {
  description: 'Removes every key of a KV instance in one change. Needs ADMIN access.',
  fields: (t) => ({ kvInstanceId: t.id({ required: true, description: kvInstanceIdDoc('to clear') }) }),
});
const SetKvKeyInput = builder.inputType('SetKvKeyInput', {
  description:
    'Creates or replaces one key. Needs WRITE access; a readonly key, and the readonly flag itself, change only for an ADMIN (FORBIDDEN otherwise). Flags left out keep their stored values (or their defaults for a new key).',
  fields: (t) => ({
    kvInstanceId: t.id({ required: true, description: kvInstanceIdDoc('holding the key') }),
    name: t.string({ required: true, description: 'The key\'s name, 1 to 200 characters (trimmed); BAD_USER_INPUT otherwise.' }),
    value: t.field({
      type: 'JSON',
      required: true,
      description:
        'TEXT and MARKDOWN hold a string, IMAGE base64 or a data: URL, JSON anything. BAD_USER_INPUT when it does not fit the type or exceeds `kv.max_value_bytes` (`kv.max_image_bytes` for images).',
    }),
    type: t.field({ type: KvKeyType, description: 'Defaults to the stored type, else TEXT for a string and JSON otherwise.' }),
    contentType: t.string({ description: 'The value\'s MIME type (at most 100 characters). An IMAGE key needs `image/*`, unless its value is a data: URL, which carries it.' }),
    readonly: t.boolean({ description: 'Let only an ADMIN (or an AI operation in edit mode) change the key. Only an ADMIN may change this flag. Default false.' }),
    visible: t.boolean({ description: 'Whether clients should show the key. Default true.' }),
    hardcoded: t.boolean({ description: 'Marks a key the application defines. Default false.' }),
    template: t.boolean({ description: 'Marks a value holding `{{key}}` variables. Default false.' }),
    tags: t.stringList({ description: 'Replaces the key\'s tags (at most 50, each 1 to 100 characters; duplicates dropped). `SystemPrompt` puts the key into attached threads\' system prompts.' }),
    ifVersion: t.int({ description: ifVersionDoc('Write') }),
  }),
});
const DeleteKvKeyInput = builder.inputType('DeleteKvKeyInput', {
  description: 'Deletes one key. Needs WRITE access; a readonly key needs ADMIN (FORBIDDEN otherwise).',
  fields: (t) => ({
    kvInstanceId: t.id({ required: true, description: kvInstanceIdDoc('holding the key') }),
    name: t.string({ required: true, description: 'The key\'s name. NOT_FOUND when the instance has no such key.' }),
    ifVersion: t.int({ description: ifVersionDoc('Delete') }),
  }),
});

const instanceIdOf = (v: unknown) => idOf(v, 'KvInstance', 'kvInstanceId');

/** The actor of a key mutation, with their access (shield has checked at least WRITE). */
async function actorOf(ctx: Context, instanceId: string) {
  return { userId: actingUserId(ctx.viewer) ?? null, access: (await instanceAccess(ctx, instanceId))! };
}

const DeleteKvInstancePayload = builder.objectRef<{ deletedId: string; projectId: string }>('DeleteKvInstancePayload').implement({
  description: 'The result of deleteKvInstance.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global id of the deleted instance, to evict from a client cache.' }),
    project: t.prismaField({
      type: 'Project',
      description: 'The project the instance belonged to, for refreshing its `kvInstances`.',
      resolve: (query, p) => db.project.findUniqueOrThrow({ ...query, where: { id: p.projectId } }),
    }),
  }),
});

/** A change of an instance's keys: its version, and the instance for the payload's `kvInstance`. */
type KeysChange = { kvInstanceId: string; version: number };
const kvInstanceOf = (t: any) =>
  t.prismaField({
    type: 'KvInstance',
    description: 'The instance after the change (its `version` may already be later if another change followed).',
    resolve: (query: object, p: KeysChange) => db.kvInstance.findUniqueOrThrow({ ...query, where: { id: p.kvInstanceId } }),
  });

const DeleteKvKeyPayload = builder.objectRef<KeysChange & { deletedId: string }>('DeleteKvKeyPayload').implement({
  description: 'The result of deleteKvKey.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global id of the deleted key (KvKey.id), to evict from a client cache.' }),
    version: t.exposeInt('version', { description: 'The instance version of the deletion; kvEvents delivers it as KvKeyDeleted.' }),
    kvInstance: kvInstanceOf(t),
  }),
});
const ClearKvInstancePayload = builder.objectRef<KeysChange>('ClearKvInstancePayload').implement({
  description: 'The result of clearKvInstance.',
  fields: (t) => ({
    version: t.exposeInt('version', { description: 'The instance version of the clearing; kvEvents delivers it as KvInstanceCleared.' }),
    kvInstance: kvInstanceOf(t),
  }),
});

builder.mutationFields((t) => ({
  createKvInstance: t.prismaField({
    type: 'KvInstance',
    description: 'Creates a KV instance in a project (WRITE access to the project). Returns the new instance, at version 0.',
    args: { input: t.arg({ type: CreateKvInstanceInput, required: true, description: 'The project and the name.' }) },
    resolve: async (query, _root, { input }) => {
      const i = await kv.createInstance(idOf(input.projectId, 'Project', 'projectId'), input);
      return db.kvInstance.findUniqueOrThrow({ ...query, where: { id: i.id } });
    },
  }),
  updateKvInstance: t.prismaField({
    type: 'KvInstance',
    description: 'Renames a KV instance (WRITE access). Returns the instance.',
    args: { input: t.arg({ type: UpdateKvInstanceInput, required: true, description: 'The instance and its new name.' }) },
    resolve: async (query, _root, { input }) => {
      const i = await kv.renameInstance(instanceIdOf(input.kvInstanceId), input);
      return db.kvInstance.findUniqueOrThrow({ ...query, where: { id: i.id } });
    },
  }),
  deleteKvInstance: t.field({
    type: DeleteKvInstancePayload,
    description: 'Deletes a KV instance with its keys, event log and thread attachments (ADMIN access).',
    args: { input: t.arg({ type: DeleteKvInstanceInput, required: true, description: 'The instance to delete.' }) },
    resolve: async (_root, { input }) => {
      const { projectId } = await kv.deleteInstance(instanceIdOf(input.kvInstanceId));
      return { deletedId: String(input.kvInstanceId), projectId };
    },
  }),
  setKvKey: t.field({
    type: KvKeyRef,
    description: 'Creates or replaces a key (WRITE access; readonly keys need ADMIN). Returns the key; kvEvents delivers the change as KvKeyUpdated.',
    args: { input: t.arg({ type: SetKvKeyInput, required: true, description: 'The key, its value and flags.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = instanceIdOf(input.kvInstanceId);
      return setKey(ctx.app, id, await actorOf(ctx, id), input);
    },
  }),
  deleteKvKey: t.field({
    type: DeleteKvKeyPayload,
    description: 'Deletes a key (WRITE access; readonly keys need ADMIN). kvEvents delivers the change as KvKeyDeleted.',
    args: { input: t.arg({ type: DeleteKvKeyInput, required: true, description: 'The key to delete.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = instanceIdOf(input.kvInstanceId);
      const version = await deleteKey(ctx.app, id, await actorOf(ctx, id), input);
      return { deletedId: kvKeyGlobalId(id, input.name.trim()), version, kvInstanceId: id };
    },
  }),
  clearKvInstance: t.field({
    type: ClearKvInstancePayload,
    description: 'Removes every key of an instance in one change (ADMIN access); the instance stays. kvEvents delivers it as KvInstanceCleared.',
    args: { input: t.arg({ type: ClearKvInstanceInput, required: true, description: 'The instance to clear.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = instanceIdOf(input.kvInstanceId);
      return { version: await clearInstance(ctx.app, id), kvInstanceId: id };
    },
  }),
}));
