import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { ProjectRef } from '../projects/projects.schema.ts';
import { FirstMessageInput } from './messages.inputs.ts';
import { findThreadsWithMessages, messageOrder } from './threads.messages.ts';
import { projectAccess } from './threads.access.ts';
import * as threads from './threads.service.ts';

export const ThreadStatus = builder.enumType('ThreadStatus', { values: ['ACTIVE', 'ARCHIVED'] as const });
type InputFields = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];
const ThreadOrderField = builder.enumType('ThreadOrderField', { values: ['CREATED_AT', 'UPDATED_AT'] as const });
const OrderDirection = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });


/** The first or last message of threads, batched: messages at the threads' first/last timestamps. */
function edgeMessage(ctx: Context, threadId: string, at: Date | null, which: 'first' | 'last'): Promise<Message | null> | null {
  if (!at) return null;
  return ctx
    .loader<{ threadId: string; at: Date }, Message | null>(`threadEdgeMessage:${which}`, async (keys) => {
      const rows = await db.message.findMany({ where: { OR: keys.map((k) => ({ threadId: k.threadId, createdAt: k.at })) }, orderBy: messageOrder });
      return keys.map((k) => {
        const mine = rows.filter((r) => r.threadId === k.threadId && r.createdAt.getTime() === k.at.getTime());
        return (which === 'first' ? mine[0] : mine.at(-1)) ?? null;
      });
    })
    .load({ threadId, at });
}

builder.prismaNode('Thread', {
  id: { field: 'id' },
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: ThreadStatus }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
    messageCount: t.exposeInt('messageCount'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    lastMessageAt: t.expose('lastMessageAt', { type: 'DateTime', nullable: true }),
    org: t.relation('org'),
    // Loaded with the thread, shown only while the viewer can read the project: a thread's creator keeps
    // the thread after losing the project's share, but not the way into the project's other contents.
    project: t.field({
      type: ProjectRef,
      nullable: true,
      select: (_args, _ctx, nestedSelection) => ({ project: nestedSelection() }),
      resolve: async (thread, _args, ctx) => (thread.project && (await projectAccess(ctx, thread.project)) ? thread.project : null),
    }),
    createdBy: t.relation('createdBy'),
    // Thread.firstMessageAt/lastMessageAt are the createdAt of those messages: one query per list.
    firstMessage: t.prismaField({
      type: 'Message',
      nullable: true,
      resolve: (_query, thread, _args, ctx) => edgeMessage(ctx, thread.id, thread.firstMessageAt, 'first'),
    }),
    lastMessage: t.prismaField({
      type: 'Message',
      nullable: true,
      resolve: (_query, thread, _args, ctx) => edgeMessage(ctx, thread.id, thread.lastMessageAt, 'last'),
    }),
    messages: t.relatedConnection('messages', {
      cursor: 'id',
      description: 'Every message of the thread, across its sessions, oldest first.',
      query: { orderBy: messageOrder },
    }),
    sessions: t.relatedConnection('sessions', { cursor: 'id', query: { orderBy: { index: 'asc' } } }),
    currentSession: t.prismaField({
      type: 'Session',
      nullable: true,
      resolve: (query, thread) => (thread.currentSessionId ? db.session.findUnique({ ...query, where: { id: thread.currentSessionId } }) : null),
    }),
  }),
});

/** The fields of ThreadFilter, also the base of OrgThreadFilter (Org.threads). */
export const threadFilterFields = (t: InputFields) => ({
  projectId: t.id(),
  status: t.field({ type: ThreadStatus }),
  createdAfter: t.field({ type: 'DateTime' }),
  createdBefore: t.field({ type: 'DateTime' }),
  updatedAfter: t.field({ type: 'DateTime' }),
  updatedBefore: t.field({ type: 'DateTime' }),
});
const ThreadFilter = builder.inputType('ThreadFilter', { fields: (t) => threadFilterFields(t) });

/** A filter's global IDs decoded (a wrong one is BAD_USER_INPUT). */
export const decodeThreadFilter = <F extends { projectId?: unknown }>(filter?: F | null) => ({
  ...filter,
  projectId: filter?.projectId ? idOf(filter.projectId, 'Project', 'projectId') : null,
});

export const ThreadOrder = builder.inputType('ThreadOrder', {
  fields: (t) => ({
    field: t.field({ type: ThreadOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true, defaultValue: 'DESC' }),
  }),
});

builder.prismaObjectField(ViewerRef, 'threads', (t) =>
  t.prismaConnection({
    type: 'Thread',
    cursor: 'id',
    description: 'Threads you may read (yours, and those of projects you can see); newest activity first by default.',
    args: {
      filter: t.arg({ type: ThreadFilter, description: 'Only the threads that match.' }),
      orderBy: t.arg({ type: ThreadOrder, description: 'The order; newest activity first when absent.' }),
    },
    resolve: (query, user, { filter, orderBy }) =>
      findThreadsWithMessages({
        ...query,
        where: threads.threadsWhere(user.id, decodeThreadFilter(filter)),
        orderBy: threads.threadsOrder(orderBy),
      }),
  }),
);

const CreateThreadInput = builder.inputType('CreateThreadInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    projectId: t.id(),
    title: t.string({ required: true }),
    metadata: t.field({ type: 'JSON' }),
    firstMessage: t.field({ type: FirstMessageInput, description: 'Stored as-is with the thread, in one transaction (no reply is generated).' }),
  }),
});
const UpdateThreadInput = builder.inputType('UpdateThreadInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    title: t.string(),
    status: t.field({ type: ThreadStatus }),
    metadata: t.field({ type: 'JSON' }),
  }),
});
const DeleteThreadInput = builder.inputType('DeleteThreadInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.queryFields((t) => ({
  thread: t.prismaField({
    type: 'Thread',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args) => db.thread.findUniqueOrThrow({ ...query, where: { id: idOf(args.id, 'Thread') } }),
  }),
}));

builder.mutationFields((t) => ({
  createThread: t.prismaField({
    type: 'Thread',
    args: { input: t.arg({ type: CreateThreadInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const projectId = input.projectId ? idOf(input.projectId, 'Project', 'projectId') : null;
      const thread = await threads.createThread(ctx, idOf(input.orgId, 'Org', 'orgId'), projectId, input);
      return db.thread.findUniqueOrThrow({ ...query, where: { id: thread.id } });
    },
  }),
  updateThread: t.prismaField({
    type: 'Thread',
    args: { input: t.arg({ type: UpdateThreadInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const thread = await threads.updateThread(idOf(input.id, 'Thread'), input);
      return db.thread.findUniqueOrThrow({ ...query, where: { id: thread.id } });
    },
  }),
  deleteThread: t.field({
    type: builder.simpleObject('DeleteThreadPayload', { fields: (f) => ({ deletedId: f.id() }) }),
    args: { input: t.arg({ type: DeleteThreadInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await threads.deleteThread(ctx, idOf(input.id, 'Thread'));
      return { deletedId: String(input.id) };
    },
  }),
}));
