import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { setBlocked, viewerBlocks } from './blocks.service.ts';
import { UserRef, ViewerRef } from './users.schema.ts';

builder.prismaObjectField(UserRef, 'viewerBlocked', (t) =>
  t.boolean({ description: 'Whether you blocked this user (`blockUser`); false for yourself and when not signed in as a user.', resolve: (u, _args, ctx) => viewerBlocks(ctx, u.id) }),
);

builder.prismaObjectField(ViewerRef, 'blockedUsers', (t) =>
  t.prismaConnection(
    {
      type: UserRef,
      cursor: 'id',
      description: 'The users you blocked (`blockUser`), by name.',
      resolve: (query, user) => db.user.findMany({ ...query, where: { blockedBy: { some: { blockerId: user.id } } }, orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    },
    { name: 'UserConnection', description: 'A page of users.', edgesField: { description: 'The users of this page.' } },
    { name: 'UserEdge', description: 'A user and its cursor.', nodeField: { description: 'The user.' } },
  ),
);

const blockInput = (name: string, description: string, userDescription: string) =>
  builder.inputType(name, { description, fields: (t) => ({ userId: t.id({ required: true, description: userDescription }) }) });
const BlockUserInput = blockInput(
  'BlockUserInput',
  'The user to block.',
  'Someone you share an org with (NOT_FOUND otherwise), not yourself (BAD_USER_INPUT).',
);
const UnblockUserInput = blockInput('UnblockUserInput', 'The user to unblock.', 'Someone you blocked, or someone you share an org with (NOT_FOUND otherwise).');

const reloadUser = (query: object, id: string) => db.user.findUniqueOrThrow({ ...query, where: { id } });

builder.mutationFields((t) => ({
  blockUser: t.prismaField({
    type: UserRef,
    description:
      'Blocks a user, in every org: they can no longer open a direct room with you or write in one you share (FORBIDDEN, reason BLOCKED), and their messages are marked `hiddenForViewer` for you. Blocking twice changes nothing. Returns the blocked user.',
    args: { input: t.arg({ type: BlockUserInput, required: true, description: 'Who to block.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = idOf(input.userId, 'User', 'userId');
      await setBlocked(ctx, userId, true);
      return reloadUser(query, userId);
    },
  }),
  unblockUser: t.prismaField({
    type: UserRef,
    description: 'Takes a block back (unblocking someone not blocked changes nothing). Returns the user.',
    args: { input: t.arg({ type: UnblockUserInput, required: true, description: 'Who to unblock.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = idOf(input.userId, 'User', 'userId');
      await setBlocked(ctx, userId, false);
      return reloadUser(query, userId);
    },
  }),
}));
