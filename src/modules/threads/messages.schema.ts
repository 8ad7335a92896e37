import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { MessageRef } from '../chat/chat.schema.ts';
import { AppendMessageRole } from './messages.inputs.ts';
import { appendThreadMessage, type AppendResult } from './messages.service.ts';
import { findThreadsWithMessages } from './threads.messages.ts';
import { decodeThreadFilter, threadFilterFields, ThreadOrder } from './threads.schema.ts';
import { orgThreadsWhere, threadsOrder } from './threads.service.ts';

const AppendThreadMessageInput = builder.inputType('AppendThreadMessageInput', {
  fields: (t) => ({
    threadId: t.id({ required: true }),
    role: t.field({ type: AppendMessageRole, required: true }),
    content: t.string({ required: true }),
    metadata: t.field({ type: 'JSON' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id stores it once.' }),
  }),
});

const AppendThreadMessagePayload = builder.objectRef<AppendResult>('AppendThreadMessagePayload').implement({
  fields: (t) => ({
    message: t.field({ type: MessageRef, resolve: (r) => r.message }),
    deduplicated: t.exposeBoolean('deduplicated', { description: 'True when clientMsgId matched an earlier message: nothing new was stored.' }),
  }),
});

builder.mutationFields((t) => ({
  appendThreadMessage: t.field({
    type: AppendThreadMessagePayload,
    description: 'Stores a message as given, without generating a reply (for clients that run their own model); announced as MessageAdded.',
    args: { input: t.arg({ type: AppendThreadMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => appendThreadMessage(ctx, idOf(input.threadId, 'Thread', 'threadId'), input),
  }),
}));

const OrgThreadFilter = builder.inputType('OrgThreadFilter', {
  fields: (t) => ({
    ...threadFilterFields(t),
    authorId: t.id({ description: 'Threads this user created.' }),
    from: t.field({ type: 'DateTime', description: 'Created at or after this time.' }),
    to: t.field({ type: 'DateTime', description: 'Created before this time.' }),
  }),
});

builder.prismaObjectField('Org', 'threads', (t) =>
  t.prismaConnection({
    type: 'Thread',
    cursor: 'id',
    description: "Every thread of the org (ADMIN and OWNER only), e.g. one author's in a date range; newest activity first by default.",
    args: { filter: t.arg({ type: OrgThreadFilter }), orderBy: t.arg({ type: ThreadOrder }) },
    resolve: (query, org, { filter, orderBy }) =>
      findThreadsWithMessages({
        ...query,
        where: orgThreadsWhere(org.id, { ...decodeThreadFilter(filter), authorId: filter?.authorId ? idOf(filter.authorId, 'User', 'authorId') : null }),
        orderBy: threadsOrder(orderBy),
      }),
  }),
);
