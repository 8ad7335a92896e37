import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../schema/builder.ts';
import { takeCheckedUser } from '../../auth/viewer.ts';
import { db } from '../../db/client.ts';
import { rowById } from '../../db/rows.ts';
import type { User } from '../../generated/sqlite/client.ts';
import * as users from './users.service.ts';

export const UserRef = builder.prismaNode('User', {
  id: { field: 'id' },
  description:
    'A person with an account. Everything here is readable by whoever can see the user (the members of an org they share, ' +
    'the members of a room they are in); what only the user may read about themselves is on `me` (`Viewer`).',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The display name the user chose (at registration, or later with updateProfile).' }),
    email: t.exposeString('email', { description: 'The email address the user signs in with.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the account was registered.' }),
    lastSeenAt: t.expose('lastSeenAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the user last made an authenticated request; null if they never did since registering.',
    }),
  }),
});

/**
 * The signed-in user as they see themselves: `me`. Other modules add the self-only fields
 * (`builder.prismaObjectField(ViewerRef, ...)`): rooms, notifications, trust, projects, threads.
 */
export const ViewerRef = builder.prismaObject('User', {
  variant: 'Viewer',
  description:
    'The signed-in user and what only they may read about themselves: their orgs, rooms, projects, threads, notifications ' +
    'and trust. Reached only through `me`; the public side of the same person is `user`.',
  fields: (t) => ({
    id: t.id({
      description: "The signed-in user's global ID: the same as `user.id`.",
      resolve: (u) => encodeGlobalID('User', u.id),
    }),
    email: t.exposeString('email', { description: 'The email address you sign in with.' }),
    user: t.variant(UserRef, { description: 'You as others see you (name, presence...).' }),
    orgs: t.prismaConnection({
      type: 'Org',
      cursor: 'id',
      description: 'The orgs you belong to, oldest membership first.',
      resolve: (query, user) =>
        db.org.findMany({ ...query, where: { members: { some: { userId: user.id } } }, orderBy: { createdAt: 'asc' } }),
    }, { name: 'OrgConnection', description: 'A page of orgs.' }, { name: 'OrgEdge', description: 'An org and its cursor.' }),
  }),
});

type AuthResult = Awaited<ReturnType<typeof users.login>>;
const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  description: 'A new login: an access token, the refresh token that renews it, and who signed in.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'JWT for `Authorization: Bearer`; short-lived.' }),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', {
      type: 'DateTime',
      description: 'When the access token stops working: renew it before then with `refreshAccessToken`.',
    }),
    refreshToken: t.exposeString('refreshToken', { description: 'Single use: exchange with refreshAccessToken.' }),
    user: t.field({ type: UserRef, description: 'The user who signed in.', resolve: (p) => p.user }),
  }),
});

const LogoutPayload = builder.simpleObject('LogoutPayload', {
  description: 'The outcome of `logout`.',
  fields: (t) => ({
    revoked: t.boolean({ description: 'False when the refresh token is unknown (nothing changed).' }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  description: 'A new account.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'The address to sign in with; unique (CONFLICT when it is taken).' }),
    password: t.string({ required: true, description: 'At least 10 characters.' }),
    name: t.string({ required: true, description: 'The display name others see.' }),
    inviteToken: t.string({
      description:
        'An org invite’s token for this email: accepted in the same step (you arrive as a member). Required while registration is closed (auth.enable_registration off).',
    }),
  }),
});
const LoginInput = builder.inputType('LoginInput', {
  description: 'Credentials to sign in with.',
  fields: (t) => ({
    email: t.string({ required: true, description: 'The address the account was registered with.' }),
    password: t.string({ required: true, description: "The account's password." }),
  }),
});
const RefreshInput = builder.inputType('RefreshAccessTokenInput', {
  description: 'The refresh token to exchange for a new login.',
  fields: (t) => ({
    refreshToken: t.string({ required: true, description: 'The refresh token of the last login or refresh; single use.' }),
  }),
});
const LogoutInput = builder.inputType('LogoutInput', {
  description: 'The login to end.',
  fields: (t) => ({
    refreshToken: t.string({ required: true, description: 'The refresh token of the login to revoke.' }),
    everywhere: t.boolean({ description: 'Revoke every login of this user, not only this one.' }),
  }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: ViewerRef,
    nullable: true,
    description: 'The signed-in user and their own data; null for anonymous callers, API keys and session tokens.',
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
    description:
      'Creates an account and signs it in. BAD_USER_INPUT for a short password, a malformed email or an invite token that is not pending for this email; CONFLICT when the email is taken; FORBIDDEN (reason REGISTRATION_CLOSED) while registration is closed and no invite is given.',
    args: { input: t.arg({ type: RegisterInput, required: true, description: 'The account to create.' }) },
    resolve: (_root, { input }, ctx) => users.register(ctx, input),
  }),
  login: t.field({
    type: AuthPayload,
    description: 'Signs in with email and password. UNAUTHENTICATED for wrong credentials, RATE_LIMITED after too many failures.',
    args: { input: t.arg({ type: LoginInput, required: true, description: 'The credentials.' }) },
    resolve: (_root, { input }, ctx) => users.login(ctx, input),
  }),
  refreshAccessToken: t.field({
    type: AuthPayload,
    description: 'Exchanges a refresh token for a new access token and refresh token; each refresh token works once, and reusing one revokes its whole login. ' +
      'UNAUTHENTICATED (reason REFRESH_INVALID, REFRESH_REVOKED, REFRESH_EXPIRED or REFRESH_REUSED) otherwise.',
    args: { input: t.arg({ type: RefreshInput, required: true, description: 'The refresh token to exchange.' }) },
    resolve: (_root, { input }, ctx) => users.refreshAccessToken(ctx, input.refreshToken),
  }),
  logout: t.field({
    type: LogoutPayload,
    description: 'Revokes a login (its refresh token), or every login of its user with `everywhere`.',
    args: { input: t.arg({ type: LogoutInput, required: true, description: 'The login to end.' }) },
    resolve: async (_root, { input }, ctx) => ({ revoked: await users.logout(ctx, input.refreshToken, input.everywhere ?? false) }),
  }),
}));
