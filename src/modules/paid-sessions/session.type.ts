import { builder } from '../../schema/builder.ts';

/*
 * The Session node and its state enum. Sessions are shared with the threads domain (issue 4); until
 * that domain defines the type, it is defined here with its common fields, and the prepaid fields are
 * added in paid-sessions.schema.ts. When both land, this file goes and the other stays.
 */
export const SessionStateEnum = builder.enumType('SessionState', {
  values: ['AWAITING_PAYMENT', 'ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED'] as const,
});

builder.prismaNode('Session', {
  id: { field: 'id' },
  fields: (t) => ({
    state: t.expose('state', { type: SessionStateEnum }),
    index: t.exposeInt('index'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
