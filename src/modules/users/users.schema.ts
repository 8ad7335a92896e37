import { builder } from '../../schema/builder.ts';
import { takeCheckedUser } from '../../auth/viewer.ts';
import { db } from '../../db/client.ts';
import { rowById } from '../../db/rows.ts';
import type { User } from '../../generated/sqlite/client.ts';
import * as users from './users.service.ts';

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', nullable: true }),
    orgs: t.prismaConnection({
      type: 'Org',
      cursor: 'id',
      description: 'Orgs the user belongs to (only readable on yourself).',
      resolve: (query, user) =>
        db.org.findMany({ ...query, where: { members: { some: { userId: user.id } } }, orderBy: { createdAt: 'asc' } }),
    }),
  }),
});

type AuthResult = Awaited<ReturnType<typeof users.login>>;
const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'JWT for `Authorization: Bearer`; short-lived.' }),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    refreshToken: t.exposeString('refreshToken', { description: 'Single use: exchange with refreshAccessToken.' }),
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
  }),
});

const LogoutPayload = builder.simpleObject('LogoutPayload', {
  fields: (t) => ({ revoked: t.boolean() }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 10 characters.' }),
    name: t.string({ required: true }),
  }),
});
const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({ email: t.string({ required: true }), password: t.string({ required: true }) }),
});
const RefreshInput = builder.inputType('RefreshAccessTokenInput', {
  fields: (t) => ({ refreshToken: t.string({ required: true }) }),
});
const LogoutInput = builder.inputType('LogoutInput', {
  fields: (t) => ({
    refreshToken: t.string({ required: true }),
    everywhere: t.boolean({ description: 'Revoke every login of this user, not only this one.' }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user; null for anonymous callers and API keys.',
    resolve: (query, _root, _args, ctx) => {
      if (ctx.viewer.kind !== 'user') return null;
      // Something nested to load with the row: Prisma, with the query Pothos planned.
      if (Object.keys(query).length) return db.user.findUnique({ ...query, where: { id: ctx.viewer.userId } });
      // Nothing nested: the row the token check just read, else the row on the driver (without Prisma's per-query cost).
      return takeCheckedUser(ctx.viewer) ?? rowById<User>('User', ctx.viewer.userId);
    },
  }),
}));

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_root, { input }, ctx) => users.register(ctx, input),
  }),
  login: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => users.login(ctx, input),
  }),
  refreshAccessToken: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: RefreshInput, required: true }) },
    resolve: (_root, { input }, ctx) => users.refreshAccessToken(ctx, input.refreshToken),
  }),
  logout: t.field({
    type: LogoutPayload,
    args: { input: t.arg({ type: LogoutInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ revoked: await users.logout(ctx, input.refreshToken, input.everywhere ?? false) }),
  }),
}));
