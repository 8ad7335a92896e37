import { idOf } from '../../auth/rules.ts';
import { actingUserId } from '../../auth/viewer.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { instanceAccess } from './kv.access.ts';
import { clearInstance, deleteKey, getKey, listKeys, setKey } from './kv.keys.ts';
import * as kv from './kv.service.ts';
import type { KvKeyJson } from './kv.topics.ts';

export const KvKeyType = builder.enumType('KvKeyType', { values: ['TEXT', 'JSON', 'MARKDOWN', 'IMAGE'] as const });

function userById(ctx: Context, id: string) {
  return ctx
    .loader<string, any>('kvUserById', async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      return ids.map((i) => rows.find((u) => u.id === i) ?? null);
    })
    .load(id);
}

/** A key, from a row or from an event (the same JSON shape either way). */
export const KvKeyRef = builder.objectRef<KvKeyJson>('KvKey').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    value: t.field({ type: 'JSON', nullable: true, resolve: (k) => k.value }),
    type: t.field({ type: KvKeyType, resolve: (k) => k.type }),
    contentType: t.exposeString('contentType', { nullable: true }),
    readonly: t.exposeBoolean('readonly', { description: 'Changed only by an ADMIN of the instance or by an AI operation in edit mode.' }),
    visible: t.exposeBoolean('visible'),
    hardcoded: t.exposeBoolean('hardcoded'),
    template: t.exposeBoolean('template'),
    tags: t.exposeStringList('tags', { description: 'Keys tagged `SystemPrompt` join the system prompt of threads the instance is attached to.' }),
    version: t.exposeInt('version', { description: 'The instance version of the last change; pass it as `ifVersion` to update only if unchanged.' }),
    updatedAt: t.field({ type: 'DateTime', resolve: (k) => new Date(k.updatedAt) }),
    updatedBy: t.field({ type: UserRef, nullable: true, resolve: (k, _a, ctx) => (k.updatedById ? userById(ctx, k.updatedById) : null) }),
  }),
});

builder.prismaNode('KvInstance', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeInt('lastVersion', { description: 'The version of the last change (0 before any); kvEvents resumes after it.' }),
    project: t.relation('project'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    keys: t.field({
      type: [KvKeyRef],
      description: 'Every key, by name; with `tag`, only keys carrying it.',
      args: { tag: t.arg.string() },
      resolve: (i, args) => listKeys(i.id, { tag: args.tag }),
    }),
    key: t.field({ type: KvKeyRef, nullable: true, args: { name: t.arg.string({ required: true }) }, resolve: (i, args) => getKey(i.id, args.name) }),
  }),
});

builder.prismaObjectField('Project', 'kvInstances', (t) =>
  t.relatedConnection('kvInstances', { cursor: 'id', description: 'KV instances of the project, oldest first.', query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } }),
);

const CreateKvInstanceInput = builder.inputType('CreateKvInstanceInput', { fields: (t) => ({ projectId: t.id({ required: true }), name: t.string({ required: true }) }) });
const UpdateKvInstanceInput = builder.inputType('UpdateKvInstanceInput', { fields: (t) => ({ instanceId: t.id({ required: true }), name: t.string({ required: true }) }) });
const KvInstanceIdInput = builder.inputType('KvInstanceIdInput', { fields: (t) => ({ instanceId: t.id({ required: true }) }) });
const SetKvKeyInput = builder.inputType('SetKvKeyInput', {
  fields: (t) => ({
    instanceId: t.id({ required: true }),
    name: t.string({ required: true }),
    value: t.field({ type: 'JSON', required: true, description: 'TEXT and MARKDOWN hold a string, IMAGE base64 or a data: URL, JSON anything.' }),
    type: t.field({ type: KvKeyType, description: 'Defaults to the stored type, else TEXT for a string and JSON otherwise.' }),
    contentType: t.string(),
    readonly: t.boolean(),
    visible: t.boolean(),
    hardcoded: t.boolean(),
    template: t.boolean(),
    tags: t.stringList(),
    ifVersion: t.int({ description: 'Write only if the key is still at this version (0: only if it does not exist); CONFLICT otherwise.' }),
  }),
});
const DeleteKvKeyInput = builder.inputType('DeleteKvKeyInput', {
  fields: (t) => ({ instanceId: t.id({ required: true }), name: t.string({ required: true }), ifVersion: t.int() }),
});

const instanceIdOf = (v: unknown) => idOf(v, 'KvInstance', 'instanceId');

/** The actor of a key mutation, with their access (shield has checked at least WRITE). */
async function actorOf(ctx: Context, instanceId: string) {
  return { userId: actingUserId(ctx.viewer) ?? null, access: (await instanceAccess(ctx, instanceId))! };
}

const VersionPayload = (name: string) =>
  builder.simpleObject(name, { fields: (f) => ({ instanceId: f.id(), version: f.int({ description: 'The instance version of this change.' }) }) });

builder.mutationFields((t) => ({
  createKvInstance: t.prismaField({
    type: 'KvInstance',
    args: { input: t.arg({ type: CreateKvInstanceInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const i = await kv.createInstance(idOf(input.projectId, 'Project', 'projectId'), input);
      return db.kvInstance.findUniqueOrThrow({ ...query, where: { id: i.id } });
    },
  }),
  updateKvInstance: t.prismaField({
    type: 'KvInstance',
    args: { input: t.arg({ type: UpdateKvInstanceInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const i = await kv.renameInstance(instanceIdOf(input.instanceId), input);
      return db.kvInstance.findUniqueOrThrow({ ...query, where: { id: i.id } });
    },
  }),
  deleteKvInstance: t.field({
    type: builder.simpleObject('DeleteKvInstancePayload', { fields: (f) => ({ deletedId: f.id() }) }),
    args: { input: t.arg({ type: KvInstanceIdInput, required: true }) },
    resolve: async (_root, { input }) => {
      await kv.deleteInstance(instanceIdOf(input.instanceId));
      return { deletedId: String(input.instanceId) };
    },
  }),
  setKvKey: t.field({
    type: KvKeyRef,
    args: { input: t.arg({ type: SetKvKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = instanceIdOf(input.instanceId);
      return setKey(ctx.app, id, await actorOf(ctx, id), input);
    },
  }),
  deleteKvKey: t.field({
    type: VersionPayload('DeleteKvKeyPayload'),
    args: { input: t.arg({ type: DeleteKvKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const id = instanceIdOf(input.instanceId);
      return { instanceId: String(input.instanceId), version: await deleteKey(ctx.app, id, await actorOf(ctx, id), input) };
    },
  }),
  clearKvInstance: t.field({
    type: VersionPayload('ClearKvInstancePayload'),
    args: { input: t.arg({ type: KvInstanceIdInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ instanceId: String(input.instanceId), version: await clearInstance(ctx.app, instanceIdOf(input.instanceId)) }),
  }),
}));
