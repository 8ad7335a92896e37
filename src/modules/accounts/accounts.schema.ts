import { builder } from '../../schema/builder.ts';
import { UserRef, ViewerRef } from '../users/users.schema.ts';
import type { issueTokens } from '../users/users.service.ts';
import { avatarUrl } from '../attachments/attachments.service.ts';
import * as accounts from './accounts.service.ts';
import { deleteAccount } from './accounts.deletion.ts';
import { exportMyData } from './accounts.export.ts';

builder.prismaObjectFields(UserRef, (t) => ({
  avatarUrl: t.string({
    nullable: true,
    description: 'A signed URL of their profile picture (updateProfile), good for storage.download_url_ttl_sec; null without one.',
    resolve: (u, _args, ctx) => avatarUrl(ctx, u.avatarId),
  }),
  deleted: t.boolean({
    description: 'Whether the account was deleted (deleteAccount): what is left of it shows as "Deleted user", with no email of theirs.',
    resolve: (u) => !!u.deletedAt,
  }),
}));

builder.prismaObjectFields(ViewerRef, (t) => ({
  emailVerified: t.boolean({
    description: 'Whether you proved you own your email address (verifyEmail, or a password reset through it).',
    resolve: (u) => !!u.emailVerifiedAt,
  }),
}));

type Login = Awaited<ReturnType<typeof issueTokens>>;
/** A payload of login's shape (the new login of a password change or reset). */
const loginPayload = (name: string, description: string) =>
  builder.objectRef<Login>(name).implement({
    description,
    fields: (t) => ({
      accessToken: t.exposeString('accessToken', { description: 'JWT for `Authorization: Bearer`; short-lived.' }),
      accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime', description: 'When the access token stops working: renew it with `refreshAccessToken`.' }),
      refreshToken: t.exposeString('refreshToken', { description: 'Single use: exchange with refreshAccessToken.' }),
      user: t.field({ type: UserRef, description: 'Whose login it is.', resolve: (p) => p.user }),
    }),
  });
const ChangePasswordPayload = loginPayload('ChangePasswordPayload', 'Your new login after a password change: every other login has ended.');
const ResetPasswordPayload = loginPayload('ResetPasswordPayload', 'A new login after a password reset: every earlier login has ended.');

const AcceptedPayload = (name: string, description: string) =>
  builder.simpleObject(name, {
    description,
    fields: (t) => ({ accepted: t.boolean({ description: 'Always true: the request was taken (whether a mail went out is not told).' }) }),
  });
const RequestPasswordResetPayload = AcceptedPayload('RequestPasswordResetPayload', 'The outcome of requestPasswordReset: the same whether or not the email has an account.');
const RequestEmailVerificationPayload = AcceptedPayload('RequestEmailVerificationPayload', 'The outcome of requestEmailVerification.');

const ExportFormat = builder.enumType('ExportFormat', {
  description: 'The archive exportMyData links to.',
  values: {
    ZIP: { description: 'A zip of one JSON file per section (profile.json, roomMessages.json, ...).' },
    JSON: { description: 'One JSON document with every section as a key.' },
  },
});
const ExportMyDataPayload = builder.simpleObject('ExportMyDataPayload', {
  description: 'Where to download your data.',
  fields: (t) => ({
    url: t.string({ description: 'A signed link to the archive, built when opened. A password change or signing out everywhere voids it.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'When the link stops working (privacy.export_url_ttl_sec after it was made).' }),
  }),
});
const DeleteAccountPayload = builder.simpleObject('DeleteAccountPayload', {
  description: 'The outcome of deleteAccount.',
  fields: (t) => ({ deletedId: t.id({ description: 'The global ID of the deleted user (yours).' }) }),
});

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  description: 'What to change about you; a field left out stays as it is.',
  fields: (t) => ({
    name: t.string({ description: 'Your display name: 1 to 100 characters once trimmed (BAD_USER_INPUT otherwise).' }),
    avatarId: t.id({
      description:
        'An image you uploaded (createUpload with purpose AVATAR, or one of your uploads attached to no message), READY; null removes your avatar. BAD_USER_INPUT for anything else. The avatar it replaces is deleted.',
    }),
  }),
});
const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  description: 'Your current password and the new one.',
  fields: (t) => ({
    currentPassword: t.string({ required: true, description: 'Your password now (BAD_USER_INPUT when wrong; failures count as failed logins).' }),
    newPassword: t.string({ required: true, description: 'The new password: 10 to 256 characters.' }),
  }),
});
const RequestPasswordResetInput = builder.inputType('RequestPasswordResetInput', {
  description: 'Whose password to reset.',
  fields: (t) => ({ email: t.string({ required: true, description: 'The address the account signs in with.' }) }),
});
const ResetPasswordInput = builder.inputType('ResetPasswordInput', {
  description: 'The mailed token and the new password.',
  fields: (t) => ({
    token: t.string({ required: true, description: 'The token of the mailed link (single use).' }),
    newPassword: t.string({ required: true, description: 'The new password: 10 to 256 characters.' }),
  }),
});
const RequestEmailVerificationInput = builder.inputType('RequestEmailVerificationInput', {
  description: 'Asks for a new verification link.',
  fields: (t) => ({
    email: t.string({ description: 'The address you expect the link at: when given and not your account’s address, BAD_USER_INPUT (the client shows a stale one).' }),
  }),
});
const VerifyEmailInput = builder.inputType('VerifyEmailInput', {
  description: 'The mailed verification token.',
  fields: (t) => ({ token: t.string({ required: true, description: 'The token of the mailed link: single use, yours, for your current address.' }) }),
});
const ExportMyDataInput = builder.inputType('ExportMyDataInput', {
  description: 'The archive to make.',
  fields: (t) => ({ format: t.field({ type: ExportFormat, defaultValue: 'ZIP', description: 'ZIP (the default) or JSON.' }) }),
});
const DeleteAccountInput = builder.inputType('DeleteAccountInput', {
  description: 'Your password, to confirm.',
  fields: (t) => ({ password: t.string({ required: true, description: 'Your password (BAD_USER_INPUT when wrong; failures count as failed logins).' }) }),
});

builder.mutationFields((t) => ({
  updateProfile: t.field({
    type: ViewerRef,
    description: 'Changes your name or avatar and answers you as you now are.',
    args: { input: t.arg({ type: UpdateProfileInput, required: true, description: 'What to change.' }) },
    resolve: (_root, { input }, ctx) => accounts.updateProfile(ctx, input),
  }),
  changePassword: t.field({
    type: ChangePasswordPayload,
    description: 'Sets a new password. Every login of yours ends (refresh and access tokens, open sockets); the answer is your new one.',
    args: { input: t.arg({ type: ChangePasswordInput, required: true, description: 'The current and the new password.' }) },
    resolve: (_root, { input }, ctx) => accounts.changePassword(ctx, input),
  }),
  requestPasswordReset: t.field({
    type: RequestPasswordResetPayload,
    description:
      'Mails a password reset link (auth.password_reset_ttl_sec, single use) if an account has this email; answers the same either way. RATE_LIMITED per email and per client address.',
    args: { input: t.arg({ type: RequestPasswordResetInput, required: true, description: 'The email.' }) },
    resolve: (_root, { input }, ctx) => accounts.requestPasswordReset(ctx, input),
  }),
  resetPassword: t.field({
    type: ResetPasswordPayload,
    description:
      'Sets a new password with a mailed token and signs in. Every earlier login ends, and the email counts as verified. BAD_USER_INPUT (field token) for an unknown or used token, GONE for an expired one.',
    args: { input: t.arg({ type: ResetPasswordInput, required: true, description: 'The token and the new password.' }) },
    resolve: (_root, { input }, ctx) => accounts.resetPassword(ctx, input),
  }),
  requestEmailVerification: t.field({
    type: RequestEmailVerificationPayload,
    description: 'Mails you a new verification link (none when you are verified already). RATE_LIMITED beyond 5 an hour.',
    args: { input: t.arg({ type: RequestEmailVerificationInput, required: true, description: 'Nothing, or the address you expect.' }) },
    resolve: (_root, { input }, ctx) => accounts.requestEmailVerification(ctx, input),
  }),
  verifyEmail: t.field({
    type: ViewerRef,
    description: 'Verifies your email with the mailed token. BAD_USER_INPUT (field token) for an unknown, used or someone else’s token, GONE for an expired one.',
    args: { input: t.arg({ type: VerifyEmailInput, required: true, description: 'The token.' }) },
    resolve: (_root, { input }, ctx) => accounts.verifyEmail(ctx, input),
  }),
  exportMyData: t.field({
    type: ExportMyDataPayload,
    description:
      'A download link to an archive of your own data: profile, memberships, room memberships, your room messages, the threads you made with your and the assistant’s messages, notifications, reactions, push subscriptions (endpoints), uploads (metadata), API keys you made (no secrets). RATE_LIMITED beyond 5 an hour.',
    args: { input: t.arg({ type: ExportMyDataInput, required: true, description: 'The format.' }) },
    resolve: (_root, { input }, ctx) => exportMyData(ctx, input.format ?? 'ZIP'),
  }),
  deleteAccount: t.field({
    type: DeleteAccountPayload,
    description:
      'Deletes your account and erases your personal data; your room messages stay as "Deleted user" or are deleted (privacy.on_delete). Every login and socket ends. BAD_USER_INPUT for a wrong password; CONFLICT (reason OWNS_ORGS) while you own an org with other members.',
    args: { input: t.arg({ type: DeleteAccountInput, required: true, description: 'Your password.' }) },
    resolve: (_root, { input }, ctx) => deleteAccount(ctx, input),
  }),
}));
