// Email verification mails: register sends one (when mail is configured or verification is required), and
// requestEmailVerification another. Imports no other file of users or accounts that imports users, so that
// register (users.service.ts) can call it.
import type { Context } from '../../context.ts';
import { appLink, duration, sendMail } from './accounts.mail.ts';
import { issueUserToken } from './accounts.tokens.ts';

/** Mails a verification link for the user's current address; the token verifies that address only. */
export async function sendVerification(ctx: Context, user: { id: string; email: string; name: string }): Promise<void> {
  const ttl = ctx.app.config.auth.emailVerificationTtlSec;
  const token = await issueUserToken(user.id, 'EMAIL_VERIFICATION', user.email, ttl, ctx.app.clock());
  const link = appLink(ctx, 'verify', token);
  sendMail(ctx.app, {
    to: user.email,
    subject: 'Confirm your email address',
    link,
    text:
      `Hello ${user.name},\n\nConfirm that ${user.email} is your address by opening this link:\n\n${link}\n\n` +
      `It works once, for ${duration(ttl)}. If you did not sign up, ignore this mail.\n`,
  });
}
