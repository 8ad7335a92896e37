import { builder } from '../../schema/builder.ts';

builder.prismaObjectFields('Room', (t) => ({
  prunedThroughSeq: t.exposeInt('prunedThroughSeq', {
    description:
      "Retention deleted this room's messages up to and including this seq (0 when none were): history starts after it. Pages of `messages` and resumes of `roomEvents` find nothing at or below it.",
  }),
}));
