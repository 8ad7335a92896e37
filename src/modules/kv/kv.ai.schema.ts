import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { checkInstance } from './kv.access.ts';
import { analyzeKvImage, generateKvImage, transformKv } from './kv.ai.ts';
import { attach, detach } from './kv.attach.ts';
import './kv.tools.ts';
import { KvKeyRef } from './kv.schema.ts';

/**
 * The row an attachment's raw id (the JSON of its compound key, `["<threadId>","<instanceId>"]`) names. A
 * malformed id names no row, so node(id) answers null as for any missing object (not an internal error).
 */
function attachmentWhere(raw: string) {
  let parts: unknown = null;
  try {
    parts = JSON.parse(raw);
  } catch {
    // Not JSON: no attachment has this id.
  }
  const [threadId, instanceId] = Array.isArray(parts) && parts.length === 2 && parts.every((p) => typeof p === 'string' && p) ? (parts as string[]) : ['', ''];
  return { threadId_instanceId: { threadId, instanceId } };
}

builder.prismaNode('KvAttachment', {
  findUnique: attachmentWhere,
  description: 'A KV instance attached to a thread: its keys tagged `SystemPrompt` join the thread’s system prompt, and the assistant gets tools to read and write its keys.',
  // The compound primary key: one attachment per thread and instance, so the id is stable across re-attaching.
  id: { field: 'threadId_instanceId', description: 'The attachment’s global id, the same for the same thread and instance.' },
  fields: (t) => ({
    thread: t.relation('thread', { description: 'The thread the instance is attached to.' }),
    kvInstance: t.relation('instance', { description: 'The attached KV instance.' }),
    editMode: t.exposeBoolean('editMode', { description: 'Whether the assistant may change readonly keys.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the instance was first attached to the thread.' }),
  }),
});

/** The global id Pothos gives an attachment (the JSON of its compound key's values, in the key's order). */
const attachmentGlobalId = (threadId: string, instanceId: string) => encodeGlobalID('KvAttachment', JSON.stringify([threadId, instanceId]));

builder.prismaObjectField('Thread', 'kvAttachments', (t) =>
  t.prismaField({
    type: ['KvAttachment'],
    description: 'Attached KV instances the viewer may read, in attachment order.',
    resolve: async (query, thread, _args, ctx) => {
      const rows = await db.kvAttachment.findMany({ ...query, where: { threadId: thread.id }, orderBy: [{ createdAt: 'asc' }, { instanceId: 'asc' }] });
      const visible = await Promise.all(rows.map((r) => checkInstance(ctx, r.instanceId, 'READ')));
      return rows.filter((_r, i) => visible[i] === true);
    },
  }),
);

const threadIdDoc = 'The thread. NOT_FOUND when it does not exist or the viewer cannot see it; FORBIDDEN without WRITE access to it.';

const AttachInput = builder.inputType('AttachKvInstanceInput', {
  description: 'Attaches a KV instance to a thread of the same org, or changes the edit mode of an existing attachment.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: threadIdDoc }),
    kvInstanceId: t.id({
      required: true,
      description: 'The KV instance. NOT_FOUND when the viewer cannot see it; BAD_USER_INPUT when it belongs to another org than the thread.',
    }),
    editMode: t.boolean({ description: 'Let the assistant change readonly keys (needs ADMIN on the instance, FORBIDDEN otherwise). Default false.' }),
  }),
});
const DetachInput = builder.inputType('DetachKvInstanceInput', {
  description: 'Detaches a KV instance from a thread. Needs WRITE access to the thread only; detaching an instance that is not attached changes nothing.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: threadIdDoc }),
    kvInstanceId: t.id({ required: true, description: 'The KV instance to detach (BAD_USER_INPUT when the id is not a KvInstance id).' }),
  }),
});
const aiFields = (t: any) => ({
  kvInstanceId: t.id({
    required: true,
    description: 'The KV instance whose keys the operation reads and writes. NOT_FOUND when the viewer cannot see it; FORBIDDEN without WRITE access.',
  }),
  outputKey: t.string({ required: true, description: 'The key the result is written to (and announced on kvEvents). A readonly key needs ADMIN.' }),
  prompt: t.string({
    description:
      'The instructions: the system message of transformKv, what to draw for generateKvImage, the question for analyzeKvImage. `{{key}}` variables are resolved from the instance (an unknown key is BAD_USER_INPUT). Give `prompt` or `promptKey`, not both.',
  }),
  promptKey: t.string({ description: 'Or the name of a key holding the prompt (BAD_USER_INPUT when the instance has no such key).' }),
  model: t.string({
    description:
      'The model to run: one of the allowed models (of `kv.image_models` for generateKvImage); defaults to the configured default (the first image model). BAD_USER_INPUT when it is not allowed or cannot do the operation.',
  }),
});
const TransformInput = builder.inputType('TransformKvInput', {
  description: 'A text operation over an instance’s keys: the template (and the optional prompt, as instructions) go to a model, and its answer is written to `outputKey`.',
  fields: (t) => ({
    ...aiFields(t),
    template: t.string({
      description: 'The text sent to the model, with `{{key}}` variables resolved (one pass, no recursion; at most 200,000 characters). Give `template` or `templateKey`: one is required.',
    }),
    templateKey: t.string({ description: 'Or the name of a key holding the template (BAD_USER_INPUT when the instance has no such key).' }),
  }),
});
const GenerateImageInput = builder.inputType('GenerateKvImageInput', {
  description: 'An image generated from a prompt (`prompt` or `promptKey` is required) into the IMAGE key `outputKey`.',
  fields: (t) => aiFields(t),
});
const AnalyzeImageInput = builder.inputType('AnalyzeKvImageInput', {
  description: 'An image (`imageKey` or `imageUrl`) described by a vision model into the TEXT key `outputKey`; the prompt defaults to "Describe this image."',
  fields: (t) => ({
    ...aiFields(t),
    imageKey: t.string({ description: 'An IMAGE key of the instance (BAD_USER_INPUT when it is not one)… Give exactly one of `imageKey` and `imageUrl`.' }),
    imageUrl: t.string({ description: '…or an image URL (http or https, at most 4000 characters).' }),
  }),
});

const DetachPayload = builder.objectRef<{ deletedId: string; threadId: string }>('DetachKvInstancePayload').implement({
  description: 'The result of detachKvInstance.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { description: 'The global id of the removed attachment (KvAttachment.id), to evict from a client cache.' }),
    thread: t.prismaField({
      type: 'Thread',
      description: 'The thread, with its remaining `kvAttachments`.',
      resolve: (query, p) => db.thread.findUniqueOrThrow({ ...query, where: { id: p.threadId } }),
    }),
  }),
});

const ids = (input: { threadId: unknown; kvInstanceId: unknown }) => [idOf(input.threadId, 'Thread', 'threadId'), idOf(input.kvInstanceId, 'KvInstance', 'kvInstanceId')] as const;
const instanceOf = (input: { kvInstanceId?: unknown }) => idOf(input.kvInstanceId, 'KvInstance', 'kvInstanceId');

builder.mutationFields((t) => ({
  attachKvInstance: t.prismaField({
    type: 'KvAttachment',
    description: 'Attaches a KV instance to a thread (WRITE on the thread, READ on the instance, ADMIN for edit mode); attaching again updates the edit mode. Returns the attachment.',
    args: { input: t.arg({ type: AttachInput, required: true, description: 'The thread, the instance and the edit mode.' }) },
    resolve: async (query, _root, { input }) => {
      const [threadId, instanceId] = ids(input);
      await attach(threadId, instanceId, input.editMode ?? false);
      return db.kvAttachment.findUniqueOrThrow({ ...query, where: { threadId_instanceId: { threadId, instanceId } } });
    },
  }),
  detachKvInstance: t.field({
    type: DetachPayload,
    description: 'Detaches a KV instance from a thread (WRITE on the thread). Its keys leave the thread’s system prompt and tools.',
    args: { input: t.arg({ type: DetachInput, required: true, description: 'The thread and the instance.' }) },
    resolve: async (_root, { input }) => {
      const [threadId, instanceId] = ids(input);
      await detach(threadId, instanceId);
      return { deletedId: attachmentGlobalId(threadId, instanceId), threadId };
    },
  }),
  transformKv: t.field({
    type: KvKeyRef,
    description:
      'Runs a template through a model and writes the answer into `outputKey` (WRITE access; counts against the org’s daily quota). Returns the written key. PROVIDER_ERROR when the model fails; nothing is written then.',
    args: { input: t.arg({ type: TransformInput, required: true, description: 'The instance, the template, the prompt and the output key.' }) },
    resolve: (_root, { input }, ctx) => transformKv(ctx, instanceOf(input), input),
  }),
  generateKvImage: t.field({
    type: KvKeyRef,
    description:
      'Generates an image (models in `kv.image_models`) into the IMAGE key `outputKey` (WRITE access; counts against the daily quota). Returns the written key. PROVIDER_ERROR when the model fails; nothing is written then.',
    args: { input: t.arg({ type: GenerateImageInput, required: true, description: 'The instance, the prompt and the output key.' }) },
    resolve: (_root, { input }, ctx) => generateKvImage(ctx, instanceOf(input), input),
  }),
  analyzeKvImage: t.field({
    type: KvKeyRef,
    description:
      'Describes an image with a vision model into the TEXT key `outputKey` (WRITE access; counts against the daily quota). Returns the written key. PROVIDER_ERROR when the model fails; nothing is written then.',
    args: { input: t.arg({ type: AnalyzeImageInput, required: true, description: 'The instance, the image, the prompt and the output key.' }) },
    resolve: (_root, { input }, ctx) => analyzeKvImage(ctx, instanceOf(input), input),
  }),
}));
