import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { checkInstance } from './kv.access.ts';
import { analyzeKvImage, generateKvImage, transformKv } from './kv.ai.ts';
import { attach, detach } from './kv.attach.ts';
import './kv.tools.ts';
import { KvKeyRef } from './kv.schema.ts';

builder.prismaObject('KvAttachment', {
  description: 'A KV instance attached to a thread: its keys tagged `SystemPrompt` join the thread’s system prompt.',
  fields: (t) => ({
    thread: t.relation('thread'),
    instance: t.relation('instance'),
    editMode: t.exposeBoolean('editMode', { description: 'Whether the assistant may change readonly keys.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

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

const AttachInput = builder.inputType('AttachKvInstanceInput', {
  fields: (t) => ({
    threadId: t.id({ required: true }),
    instanceId: t.id({ required: true }),
    editMode: t.boolean({ description: 'Let the assistant change readonly keys (needs ADMIN on the instance).' }),
  }),
});
const DetachInput = builder.inputType('DetachKvInstanceInput', { fields: (t) => ({ threadId: t.id({ required: true }), instanceId: t.id({ required: true }) }) });
const aiFields = (t: any) => ({
  instanceId: t.id({ required: true }),
  outputKey: t.string({ required: true, description: 'The key the result is written to (and announced on kvEvents).' }),
  prompt: t.string({ description: '`{{key}}` variables are resolved from the instance.' }),
  promptKey: t.string({ description: 'Or the name of a key holding the prompt.' }),
  model: t.string(),
});
const TransformInput = builder.inputType('TransformKvInput', {
  fields: (t) => ({
    ...aiFields(t),
    template: t.string({ description: 'The text sent to the model, with `{{key}}` variables resolved (one pass, no recursion).' }),
    templateKey: t.string({ description: 'Or the name of a key holding the template.' }),
  }),
});
const GenerateImageInput = builder.inputType('GenerateKvImageInput', { fields: (t) => aiFields(t) });
const AnalyzeImageInput = builder.inputType('AnalyzeKvImageInput', {
  fields: (t) => ({ ...aiFields(t), imageKey: t.string({ description: 'An IMAGE key of the instance…' }), imageUrl: t.string({ description: '…or an image URL.' }) }),
});

const ids = (input: { threadId: unknown; instanceId: unknown }) => [idOf(input.threadId, 'Thread', 'threadId'), idOf(input.instanceId, 'KvInstance', 'instanceId')] as const;
const instanceOf = (input: { instanceId?: unknown }) => idOf(input.instanceId, 'KvInstance', 'instanceId');

builder.mutationFields((t) => ({
  attachKvInstance: t.prismaField({
    type: 'KvAttachment',
    args: { input: t.arg({ type: AttachInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const [threadId, instanceId] = ids(input);
      await attach(threadId, instanceId, input.editMode ?? false);
      return db.kvAttachment.findUniqueOrThrow({ ...query, where: { threadId_instanceId: { threadId, instanceId } } });
    },
  }),
  detachKvInstance: t.prismaField({
    type: 'Thread',
    args: { input: t.arg({ type: DetachInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const [threadId, instanceId] = ids(input);
      await detach(threadId, instanceId);
      return db.thread.findUniqueOrThrow({ ...query, where: { id: threadId } });
    },
  }),
  transformKv: t.field({
    type: KvKeyRef,
    description: 'Runs a template through a model and writes the answer into `outputKey`.',
    args: { input: t.arg({ type: TransformInput, required: true }) },
    resolve: (_root, { input }, ctx) => transformKv(ctx, instanceOf(input), input),
  }),
  generateKvImage: t.field({
    type: KvKeyRef,
    description: 'Generates an image (models in `kv.image_models`) into the IMAGE key `outputKey`.',
    args: { input: t.arg({ type: GenerateImageInput, required: true }) },
    resolve: (_root, { input }, ctx) => generateKvImage(ctx, instanceOf(input), input),
  }),
  analyzeKvImage: t.field({
    type: KvKeyRef,
    description: 'Describes an image with a vision model into the TEXT key `outputKey`.',
    args: { input: t.arg({ type: AnalyzeImageInput, required: true }) },
    resolve: (_root, { input }, ctx) => analyzeKvImage(ctx, instanceOf(input), input),
  }),
}));
