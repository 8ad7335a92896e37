import type { Message, SessionRequest } from '../../generated/sqlite/client.ts';
import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import { ThreadMessageRef } from '../threads/thread-messages.schema.ts';
import { sendSessionMessage } from './session-chat.service.ts';

type SendResult = { userMessage: Message; assistantMessage: Message; deduplicated: boolean; request: SessionRequest | null };

const SendSessionMessagePayload = builder.objectRef<SendResult>('SendSessionMessagePayload').implement({
  description: 'Your message, the reply, and what the turn cost.',
  fields: (t) => ({
    userMessage: t.field({ type: ThreadMessageRef, description: 'Your message as stored.', resolve: (r) => r.userMessage }),
    assistantMessage: t.field({ type: ThreadMessageRef, description: 'The reply, COMPLETE (or FAILED).', resolve: (r) => r.assistantMessage }),
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
  description: 'A message to a standalone prepaid session.',
  fields: (t) => ({
    sessionId: t.id({ required: true, description: 'The standalone prepaid session to talk to.' }),
    content: t.string({ required: true, description: 'What you say to the assistant.' }),
    model: t.string({ description: 'One of `models`; the default model when omitted.' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id does not send (or charge) twice.' }),
  }),
});

builder.mutationFields((t) => ({
  sendSessionMessage: t.field({
    type: SendSessionMessagePayload,
    description:
      'A chat turn in a standalone prepaid session: streamed on sessionEvents, paid from the balance. A balance below ' +
      'the minimum or an unpaid deposit is PAYMENT_REQUIRED; an ended session is GONE; a screened-out request is ' +
      'answered with a refusal and charged the screening only; to anyone but the owner or token holder the session is NOT_FOUND.',
    args: { input: t.arg({ type: SendSessionMessageInput, required: true, description: 'The session and the message.' }) },
    resolve: (_root, { input }, ctx) => sendSessionMessage(ctx, idOf(input.sessionId, 'Session', 'sessionId'), input),
  }),
}));
