import { builder } from '../../schema/builder.ts';

export const AppendMessageRole = builder.enumType('AppendMessageRole', {
  description: 'Roles a client may store as-is (TOOL messages come only from the model side).',
  values: ['USER', 'ASSISTANT', 'SYSTEM'] as const,
});

/** A message stored as given: createThread's `firstMessage`. */
export const FirstMessageInput = builder.inputType('FirstMessageInput', {
  fields: (t) => ({
    role: t.field({ type: AppendMessageRole, defaultValue: 'USER' }),
    content: t.string({ required: true }),
    metadata: t.field({ type: 'JSON' }),
    clientMsgId: t.string({ description: 'Your id for this message: a retry with the same id stores it once.' }),
  }),
});
