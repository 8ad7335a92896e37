import { z } from 'zod';
import { idOf, requireUserId } from '../../auth/rules.ts';
import { hashPassword } from '../../auth/passwords.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { badInput, parseInput, rateLimited } from '../../errors.ts';
import { prepareAvatar, removeAttachments } from '../attachments/attachments.service.ts';
import { announceRevocation, issueTokens, newPassword, revokeLoginsIn, throttledPasswordCheck } from '../users/users.service.ts';
import { appLink, duration, sendMail } from './accounts.mail.ts';
import { claimToken, issueUserToken, usableToken } from './accounts.tokens.ts';
import { sendVerification } from './accounts.verification.ts';

const profileInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  avatarId: z.string().nullish(),
});
const changePasswordInput = z.object({ currentPassword: z.string().max(256), newPassword });
const emailInput = z.object({ email: z.string().trim().toLowerCase().max(254) });
const resetInput = z.object({ token: z.string().max(200), newPassword });
const tokenInput = z.object({ token: z.string().max(200) });

/** Throws RATE_LIMITED once `key` has had `max` hits in `windowSec`. */
async function limit(ctx: Context, key: string, max: number, windowSec: number, what: string) {
  const hit = await ctx.app.limiter.hit(key, max, windowSec);
  if (!hit.allowed) throw rateLimited(`Too many ${what}; try again in ${hit.retryAfterSec} s`, hit.retryAfterSec);
}

/**
 * Name and avatar. The avatar is one of the viewer's own uploads, READY and an image, attached to no message
 * (BAD_USER_INPUT otherwise); null removes it. The avatar it replaces is deleted, bytes and all.
 */
export async function updateProfile(ctx: Context, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(profileInput, input);
  const avatarId = data.avatarId ? idOf(data.avatarId, 'Attachment', 'avatarId') : data.avatarId;
  if (avatarId) await prepareAvatar(ctx.app, userId, avatarId);
  const before = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { avatarId: true } });
  const user = await db.user
    .update({ where: { id: userId }, data: { ...(data.name !== undefined ? { name: data.name } : {}), ...(avatarId !== undefined ? { avatarId } : {}) } })
    .catch((err: { code?: string }) => {
      // The upload went away between the check and the update (the sweeper, a replaced avatar): the foreign key refuses it.
      if (err?.code === 'P2003') throw badInput('avatarId: no such upload of yours', 'avatarId');
      throw err;
    });
  if (before.avatarId && before.avatarId !== user.avatarId) {
    await removeAttachments(ctx.app, { id: before.avatarId, avatarOf: { none: {} } });
  }
  return user;
}

/**
 * A new password, given the current one (BAD_USER_INPUT on currentPassword when wrong, counted by the login
 * throttle). Every login of the user ends (refresh tokens, access tokens, sockets); the caller gets a new one.
 * Of two changes at once, exactly one wins (a conditional update on the hash that was checked).
 */
export async function changePassword(ctx: Context, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(changePasswordInput, input);
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (!(await throttledPasswordCheck(ctx, user.email, data.currentPassword, user.passwordHash))) {
    throw badInput('currentPassword: wrong password', 'currentPassword');
  }
  const passwordHash = await hashPassword(data.newPassword, ctx.app.config.auth.passwordHashCost);
  await db.$transaction(async (tx) => {
    // Only from the password just checked: of two changes at once, the second finds it changed and fails.
    const { count } = await tx.user.updateMany({ where: { id: userId, passwordHash: user.passwordHash }, data: { passwordHash } });
    if (!count) throw badInput('currentPassword: wrong password', 'currentPassword');
    await revokeLoginsIn(tx, userId);
  });
  announceRevocation(ctx.app, userId);
  ctx.log.info({ userId }, 'password changed; every other login revoked');
  return issueTokens(ctx, userId);
}

/**
 * Mails a reset link if an account has this email; answers the same either way, and about as fast: the token
 * and the mail are made in the background. Limited per email and per client address (RATE_LIMITED).
 */
export async function requestPasswordReset(ctx: Context, input: unknown): Promise<{ accepted: true }> {
  const { email } = parseInput(emailInput, input);
  await limit(ctx, `reset:ip:${ctx.clientIp}`, 20, 3600, 'password reset requests from this address');
  await limit(ctx, `reset:email:${email}`, 5, 3600, 'password reset requests for this email');
  const work = (async () => {
    const user = await db.user.findUnique({ where: { email } });
    if (!user || user.deletedAt) return ctx.log.info({ email }, 'password reset asked for an unknown email');
    const ttl = ctx.app.config.auth.passwordResetTtlSec;
    const token = await issueUserToken(user.id, 'PASSWORD_RESET', user.email, ttl, ctx.app.clock());
    const link = appLink(ctx, 'reset', token);
    sendMail(ctx.app, {
      to: user.email,
      subject: 'Reset your Confab password',
      link,
      text:
        `Hello ${user.name},\n\nSomeone (hopefully you) asked to reset the password of ${user.email}. Choose a new one here:\n\n${link}\n\n` +
        `The link works once, for ${duration(ttl)}. If you did not ask, ignore this mail: your password stays as it is.\n`,
    });
  })();
  trackBackground(ctx, work);
  return { accepted: true };
}

/**
 * A new password with a mailed token: unknown or used, BAD_USER_INPUT (field token); expired, GONE. Of two
 * resets with one token exactly one wins. Every login ends; the address is now verified (the mail reached it).
 */
export async function resetPassword(ctx: Context, input: unknown) {
  const data = parseInput(resetInput, input);
  const row = await usableToken('PASSWORD_RESET', data.token, ctx.app.clock());
  const passwordHash = await hashPassword(data.newPassword, ctx.app.config.auth.passwordHashCost);
  await db.$transaction(async (tx) => {
    await claimToken(tx, row, ctx.app.clock());
    const user = await tx.user.findUniqueOrThrow({ where: { id: row.userId } });
    const verified = user.email === row.email && !user.emailVerifiedAt ? { emailVerifiedAt: new Date() } : {};
    await revokeLoginsIn(tx, row.userId, { passwordHash, ...verified });
  });
  announceRevocation(ctx.app, row.userId);
  ctx.log.info({ userId: row.userId }, 'password reset; every login revoked');
  return issueTokens(ctx, row.userId);
}

/** Mails a new verification link (none when already verified). At most 5 an hour per user. */
export async function requestEmailVerification(ctx: Context, input: unknown): Promise<{ accepted: true }> {
  const userId = requireUserId(ctx);
  const { email } = parseInput(z.object({ email: z.string().trim().toLowerCase().max(254).nullish() }), input);
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (email && email !== user.email) throw badInput('email: not the address of your account', 'email');
  await limit(ctx, `verify:user:${userId}`, 5, 3600, 'verification mails');
  if (!user.emailVerifiedAt) await sendVerification(ctx, user);
  return { accepted: true };
}

/** Verifies the viewer's address with the token mailed to it: single use, and only for the address it was sent to. */
export async function verifyEmail(ctx: Context, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(tokenInput, input);
  const row = await usableToken('EMAIL_VERIFICATION', data.token, ctx.app.clock(), userId);
  return db.$transaction(async (tx) => {
    await claimToken(tx, row, ctx.app.clock());
    const user = await tx.user.findUniqueOrThrow({ where: { id: userId } });
    if (user.email !== row.email) throw badInput('token: it was sent to another address; ask for a new one', 'token');
    return tx.user.update({ where: { id: userId }, data: { emailVerifiedAt: user.emailVerifiedAt ?? new Date() } });
  });
}

const background = new WeakMap<object, Set<Promise<unknown>>>();

/** Work an operation started and does not wait for (a reset mail's token): the module's stop waits for it. */
function trackBackground(ctx: Context, work: Promise<unknown>) {
  const set = background.get(ctx.app) ?? new Set();
  background.set(ctx.app, set);
  const p = work.catch((err: unknown) => ctx.log.warn({ err }, 'password reset mail failed')).finally(() => set.delete(p));
  set.add(p);
}

/** Waits for background work under way (module stop). */
export const backgroundDone = (app: object) => Promise.all([...(background.get(app) ?? [])]);
