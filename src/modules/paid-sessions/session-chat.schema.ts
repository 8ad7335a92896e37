import type { Message, SessionRequest } from '../../generated/sqlite/client.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { ThreadMessageRef } from '../threads/thread-messages.schema.ts';
import { sendSessionMessage } from './session-chat.service.ts';

type SendResult = { userMessage: Message; assistantMessage: Message; deduplicated: boolean; request: SessionRequest | null };

const SendSessionMessagePayload = builder.objectRef<SendResult>('SendSessionMessagePayload').implement({
  fields: (t) => ({
    userMessage: t.field({ type: ThreadMessageRef, resolve: (r) => r.userMessage }),
    assistantMessage: t.field({ type: ThreadMessageRef, resolve: (r) => r.assistantMessage }),
    deduplicated: t.exposeBoolean('deduplicated', { description: 'True when clientMsgId matched an earlier send: nothing new was generated or charged.' }),
    request: t.prismaField({
      type: 'SessionRequest',
      nullable: true,
      description: 'What the turn cost: tokens, sats, the balance after, the breakdown.',
      resolve: (_q, r) => r.request,
    }),
  }),
});

const SendSessionMessageInput = builder.inputType('SendSessionMessageInput', {
  fields: (t) => ({
    sessionId: t.id({ required: true }),
    content: t.string({ required: true }),
    model: t.string({ description: 'One of `models`; the default model when omitted.' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id does not send (or charge) twice.' }),
  }),
});

builder.mutationFields((t) => ({
  sendSessionMessage: t.field({
    type: SendSessionMessagePayload,
    description: 'A chat turn in a standalone prepaid session: streamed on sessionEvents, paid from the balance.',
    args: { input: t.arg({ type: SendSessionMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => sendSessionMessage(ctx, idOf(input.sessionId, 'Session', 'sessionId'), input),
  }),
}));
