import { idOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import type { Message } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { ViewerRef } from '../users/users.schema.ts';
import { ProjectRef } from '../projects/projects.schema.ts';
import { SessionConnection } from '../chat/chat.schema.ts';
import { FirstMessageInput, ThreadMessageConnection } from './thread-messages.schema.ts';
import { totalCountOf } from './total-count.ts';
import { findThreadsWithMessages, messageOrder } from './threads.messages.ts';
import { projectAccess } from './threads.access.ts';
import * as threads from './threads.service.ts';

export const ThreadStatus = builder.enumType('ThreadStatus', {
  description: 'Whether a thread takes new messages.',
  values: {
    ACTIVE: { description: 'Open: messages can be sent and appended.' },
    ARCHIVED: { description: 'Read-only: sending or appending is a CONFLICT until it is set ACTIVE again.' },
  },
});
type InputFields = Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0];
const ThreadOrderField = builder.enumType('ThreadOrderField', {
  description: 'What threads are sorted by.',
  values: {
    CREATED_AT: { description: 'When the thread was created.' },
    UPDATED_AT: { description: 'When the thread last changed (a new message counts).' },
  },
});
const OrderDirection = builder.enumType('OrderDirection', {
  description: 'Which way a sort goes.',
  values: { ASC: { description: 'Oldest first.' }, DESC: { description: 'Newest first.' } },
});

/** Messages of threads by seq, batched: a thread's first is seq 1, its last seq messageCount. */
function messageBySeq(ctx: Context, threadId: string, seq: number): Promise<Message | null> | null {
  if (seq < 1) return null;
  return ctx
    .loader<{ threadId: string; seq: number }, Message | null>('threadMessageBySeq', async (keys) => {
      const rows = await db.message.findMany({ where: { OR: keys.map((k) => ({ threadId: k.threadId, seq: k.seq })) } });
      return keys.map((k) => rows.find((r) => r.threadId === k.threadId && r.seq === k.seq) ?? null);
    })
    .load({ threadId, seq });
}

export const ThreadRef = builder.prismaNode('Thread', {
  description: 'A conversation with a model, in an org and optionally in one of its projects.',
  id: { field: 'id', description: 'The global ID of the thread.' },
  fields: (t) => ({
    title: t.exposeString('title', { description: 'The title, 1 to 200 characters.' }),
    status: t.expose('status', { type: ThreadStatus, description: 'ACTIVE, or ARCHIVED (read-only).' }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'Your own data, stored with the thread.' }),
    messageCount: t.exposeInt('messageCount', { description: 'How many messages the thread holds; also the seq of its last message.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the thread was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the thread last changed (a new message counts).' }),
    lastMessageAt: t.expose('lastMessageAt', { type: 'DateTime', nullable: true, description: 'When its last message was stored; null while it has none.' }),
    org: t.relation('org', { description: 'The org the thread belongs to.' }),
    // Loaded with the thread, shown only while the viewer can read the project: a thread's creator keeps
    // the thread after losing the project's share, but not the way into the project's other contents.
    project: t.field({
      type: ProjectRef,
      nullable: true,
      description: 'The project the thread is in; null when it is in none, or when you cannot read that project.',
      select: (_args, _ctx, nestedSelection) => ({ project: nestedSelection() }),
      resolve: async (thread, _args, ctx) => (thread.project && (await projectAccess(ctx, thread.project)) ? thread.project : null),
    }),
    createdBy: t.relation('createdBy', { description: 'Who created the thread (they manage it while they are in its org).' }),
    // Seqs run 1..messageCount: one query per list for every thread's first or last message.
    firstMessage: t.prismaField({
      type: 'Message',
      nullable: true,
      description: 'The first message stored (seq 1); null while the thread has none.',
      resolve: (_query, thread, _args, ctx) => messageBySeq(ctx, thread.id, thread.messageCount > 0 ? 1 : 0),
    }),
    lastMessage: t.prismaField({
      type: 'Message',
      nullable: true,
      description: 'The last message stored (seq messageCount); null while the thread has none.',
      resolve: (_query, thread, _args, ctx) => messageBySeq(ctx, thread.id, thread.messageCount),
    }),
    messages: t.relatedConnection(
      'messages',
      { cursor: 'id', totalCount: true, description: 'Every message of the thread, across its sessions, in the order they were stored (by seq).', query: { orderBy: messageOrder } },
      ThreadMessageConnection,
    ),
    sessions: t.relatedConnection(
      'sessions',
      {
        cursor: 'id',
        totalCount: true,
        description: "The thread's sessions, first first: a new one starts when the history outgrows its budget.",
        query: { orderBy: { index: 'asc' } },
      },
      SessionConnection,
    ),
    currentSession: t.prismaField({
      type: 'Session',
      nullable: true,
      description: 'The session new messages go to; null before the first message.',
      resolve: (query, thread) => (thread.currentSessionId ? db.session.findUnique({ ...query, where: { id: thread.currentSessionId } }) : null),
    }),
  }),
});

/** The one connection of threads (User.threads, Org.threads, Project.threads). */
const ThreadConnection = builder.connectionObject(
  {
    type: ThreadRef,
    name: 'ThreadConnection',
    description: 'A page of threads.',
    fields: (t) => ({ totalCount: t.int({ description: 'How many threads the list holds across all pages (with its filter).', resolve: totalCountOf }) }),
  },
  { name: 'ThreadEdge', description: 'A thread in a page, with its cursor.' },
);

/** The fields of ThreadFilterInput, also the base of OrgThreadFilterInput (Org.threads). */
export const threadFilterFields = (t: InputFields) => ({
  projectId: t.id({ description: 'Threads of this project only (BAD_USER_INPUT when it is not a Project ID).' }),
  status: t.field({ type: ThreadStatus, description: 'Threads with this status only.' }),
  createdAfter: t.field({ type: 'DateTime', description: 'Created after this time (exclusive).' }),
  createdBefore: t.field({ type: 'DateTime', description: 'Created before this time (exclusive).' }),
  updatedAfter: t.field({ type: 'DateTime', description: 'Last changed after this time (exclusive).' }),
  updatedBefore: t.field({ type: 'DateTime', description: 'Last changed before this time (exclusive).' }),
});
const ThreadFilterInput = builder.inputType('ThreadFilterInput', {
  description: 'Narrows a list of threads; every field given must match.',
  fields: (t) => threadFilterFields(t),
});

/** A filter's global IDs decoded (a wrong one is BAD_USER_INPUT). */
export const decodeThreadFilter = <F extends { projectId?: unknown }>(filter?: F | null) => ({
  ...filter,
  projectId: filter?.projectId ? idOf(filter.projectId, 'Project', 'projectId') : null,
});

export const ThreadOrderInput = builder.inputType('ThreadOrderInput', {
  description: 'How a list of threads is sorted (ties broken by ID, the same way).',
  fields: (t) => ({
    field: t.field({ type: ThreadOrderField, required: true, description: 'What to sort by.' }),
    direction: t.field({ type: OrderDirection, required: true, defaultValue: 'DESC', description: 'Which way; newest first when left out.' }),
  }),
});

builder.prismaObjectField(ViewerRef, 'threads', (t) =>
  t.prismaConnection(
    {
      type: 'Thread',
      cursor: 'id',
      description: 'Threads you may read (yours, and those of projects you can see); newest activity first by default.',
      args: {
        filter: t.arg({ type: ThreadFilterInput, description: 'Only the threads that match.' }),
        orderBy: t.arg({ type: ThreadOrderInput, description: 'The sort; UPDATED_AT DESC when left out.' }),
      },
      totalCount: (user, { filter }) => db.thread.count({ where: threads.threadsWhere(user.id, decodeThreadFilter(filter)) }),
      resolve: (query, user, { filter, orderBy }) =>
        findThreadsWithMessages({
          ...query,
          where: threads.threadsWhere(user.id, decodeThreadFilter(filter)),
          orderBy: threads.threadsOrder(orderBy),
        }),
    },
    ThreadConnection,
  ),
);

const OrgThreadFilterInput = builder.inputType('OrgThreadFilterInput', {
  description: "Narrows an org's threads (Org.threads); every field given must match.",
  fields: (t) => ({
    ...threadFilterFields(t),
    authorId: t.id({ description: 'Threads this user created (BAD_USER_INPUT when it is not a User ID).' }),
    from: t.field({ type: 'DateTime', description: 'Created at or after this time.' }),
    to: t.field({ type: 'DateTime', description: 'Created before this time.' }),
  }),
});

const orgFilter = (orgId: string, filter?: typeof OrgThreadFilterInput.$inferInput | null) =>
  threads.orgThreadsWhere(orgId, { ...decodeThreadFilter(filter), authorId: filter?.authorId ? idOf(filter.authorId, 'User', 'authorId') : null });

builder.prismaObjectField('Org', 'threads', (t) =>
  t.prismaConnection(
    {
      type: 'Thread',
      cursor: 'id',
      description: "Every thread of the org (ADMIN and OWNER only, FORBIDDEN to other members), e.g. one author's in a date range; newest activity first by default.",
      args: {
        filter: t.arg({ type: OrgThreadFilterInput, description: 'Only the threads that match.' }),
        orderBy: t.arg({ type: ThreadOrderInput, description: 'The sort; UPDATED_AT DESC when left out.' }),
      },
      totalCount: (org, { filter }) => db.thread.count({ where: orgFilter(org.id, filter) }),
      resolve: (query, org, { filter, orderBy }) => findThreadsWithMessages({ ...query, where: orgFilter(org.id, filter), orderBy: threads.threadsOrder(orderBy) }),
    },
    ThreadConnection,
  ),
);

// Whatever path led to the project, its threads follow the viewer's access now (projects.permissions).
builder.prismaObjectField('Project', 'threads', (t) =>
  t.relatedConnection(
    'threads',
    {
      cursor: 'id',
      totalCount: true,
      description: 'The threads of the project, most recently changed first (answers only while you can read the project).',
      query: { orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }] },
    },
    ThreadConnection,
  ),
);

const CreateThreadInput = builder.inputType('CreateThreadInput', {
  description: 'A new thread.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be a member; an API key must be of this org with the WRITE scope).' }),
    projectId: t.id({ description: 'A project of that org to put the thread in (WRITE access to it needed; BAD_USER_INPUT when it is in another org).' }),
    title: t.string({ required: true, description: 'The title, 1 to 200 characters.' }),
    metadata: t.field({ type: 'JSON', description: 'Your own data, stored with the thread.' }),
    firstMessage: t.field({ type: FirstMessageInput, description: 'Stored as-is with the thread, in one transaction (no reply is generated).' }),
  }),
});
const UpdateThreadInput = builder.inputType('UpdateThreadInput', {
  description: 'Changes to a thread; a field left out is kept.',
  fields: (t) => ({
    threadId: t.id({ required: true, description: 'The thread (WRITE access needed; NOT_FOUND when you cannot see it).' }),
    title: t.string({ description: 'A new title, 1 to 200 characters.' }),
    status: t.field({ type: ThreadStatus, description: 'ARCHIVED makes it read-only; ACTIVE opens it again.' }),
    metadata: t.field({ type: 'JSON', description: 'Replaces your own data.' }),
  }),
});
const DeleteThreadInput = builder.inputType('DeleteThreadInput', {
  description: 'The thread to delete.',
  fields: (t) => ({ threadId: t.id({ required: true, description: 'The thread (ADMIN access needed: its creator, or a project ADMIN).' }) }),
});
const DeleteThreadPayload = builder.simpleObject('DeleteThreadPayload', {
  description: 'What deleteThread removed.',
  fields: (f) => ({ deletedId: f.id({ description: 'The global ID of the deleted thread: evict it from your cache.' }) }),
});

builder.queryFields((t) => ({
  thread: t.prismaField({
    type: 'Thread',
    nullable: true,
    description: 'A thread by its ID; null with a NOT_FOUND error when it does not exist or you cannot read it.',
    args: { id: t.arg.id({ required: true, description: 'The global ID of the thread.' }) },
    // The rule answers NOT_FOUND first for what the viewer cannot read; this covers a thread deleted meanwhile.
    resolve: async (query, _root, args) => {
      const thread = await db.thread.findUnique({ ...query, where: { id: idOf(args.id, 'Thread') } });
      if (!thread) throw notFound('Thread');
      return thread;
    },
  }),
}));

builder.mutationFields((t) => ({
  createThread: t.prismaField({
    type: 'Thread',
    description: 'Creates a thread, optionally with its first message; yours to manage.',
    args: { input: t.arg({ type: CreateThreadInput, required: true, description: 'The thread.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const projectId = input.projectId ? idOf(input.projectId, 'Project', 'projectId') : null;
      const thread = await threads.createThread(ctx, idOf(input.orgId, 'Org', 'orgId'), projectId, input);
      return db.thread.findUniqueOrThrow({ ...query, where: { id: thread.id } });
    },
  }),
  updateThread: t.prismaField({
    type: 'Thread',
    description: 'Renames, archives or re-opens a thread, or replaces its metadata; announced on threadEvents as ThreadUpdated.',
    args: { input: t.arg({ type: UpdateThreadInput, required: true, description: 'The thread and its changes.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const thread = await threads.updateThread(ctx, idOf(input.threadId, 'Thread', 'threadId'), input);
      return db.thread.findUniqueOrThrow({ ...query, where: { id: thread.id } });
    },
  }),
  deleteThread: t.field({
    type: DeleteThreadPayload,
    description: 'Deletes a thread with its messages, sessions, links and context; its threadEvents streams get ThreadDeleted and end.',
    args: { input: t.arg({ type: DeleteThreadInput, required: true, description: 'The thread.' }) },
    resolve: async (_root, { input }, ctx) => {
      await threads.deleteThread(ctx, idOf(input.threadId, 'Thread', 'threadId'));
      return { deletedId: String(input.threadId) };
    },
  }),
}));
