import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { dummyHash, hashPassword, verifyPassword } from '../../auth/passwords.ts';
import { randomToken, sha256, signAccessToken } from '../../auth/tokens.ts';
import type { AppServices, Context } from '../../context.ts';
import { db, type Prisma, type Tx } from '../../db/client.ts';
import { announceAccessChange } from '../../live/access.ts';
import { appError, badInput, conflict, isUniqueViolation, parseInput, rateLimited, unauthenticated } from '../../errors.ts';
import { mailConfigured } from '../accounts/accounts.mail.ts';
import { sendVerification } from '../accounts/accounts.verification.ts';
import { appendOrgRooms } from '../inbox/inbox.service.ts';

const email = z.string().trim().toLowerCase().pipe(z.email('must be a valid email address')).pipe(z.string().max(254));
const password = z.string().min(10, 'must be at least 10 characters').max(256, 'must be at most 256 characters');
/** A new password's rules (register, changePassword, resetPassword). */
export const newPassword = password;
const registerInput = z.object({ email, password, name: z.string().trim().min(1, 'is required').max(100), inviteToken: z.string().max(200).nullish() });
const loginInput = z.object({ email: z.string().trim().toLowerCase().max(254), password: z.string().max(256) });

const REFRESH_PREFIX = 'cfr_';
const invalidCredentials = () => unauthenticated('Invalid email or password');

/** Access token plus a new refresh token in `familyId` (a new family for a fresh login). */
export async function issueTokens(ctx: Context, userId: string, familyId: string = randomUUID()) {
  const refreshToken = randomToken(REFRESH_PREFIX);
  const ttl = ctx.app.config.auth.refreshTokenTtl;
  await db.refreshToken.create({
    data: { userId, familyId, tokenHash: sha256(refreshToken), expiresAt: new Date(Date.now() + ttl * 1000) },
  });
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  const accessToken = await signAccessToken(ctx.app.config, userId, user.tokenVersion);
  const accessTokenExpiresAt = new Date(Date.now() + ctx.app.config.auth.accessTokenTtl * 1000);
  return { accessToken, accessTokenExpiresAt, refreshToken, user };
}

/**
 * A new account. With auth.enable_registration off, only someone holding a pending invite for this very
 * email may register (FORBIDDEN, reason REGISTRATION_CLOSED, otherwise). An invite token, when given, is
 * accepted in the same transaction that creates the user: they arrive as a member of its org, or not at all.
 * A verification mail goes out when mail is configured or verification is required.
 */
export async function register(ctx: Context, input: unknown) {
  const data = parseInput(registerInput, input);
  const { enableRegistration, requireVerifiedEmail } = ctx.app.config.auth;
  const refuseInvite = () =>
    enableRegistration
      ? badInput('inviteToken: no pending invite for this email', 'inviteToken')
      : appError('FORBIDDEN', 'Registration is closed: ask an org admin for an invite', { reason: 'REGISTRATION_CLOSED' });
  const invite = data.inviteToken ? await db.invite.findUnique({ where: { tokenHash: sha256(data.inviteToken) } }) : null;
  if (data.inviteToken && (!invite || invite.email !== data.email || invite.acceptedAt || invite.revokedAt || invite.expiresAt <= new Date())) throw refuseInvite();
  if (!enableRegistration && !invite) throw refuseInvite();
  const passwordHash = await hashPassword(data.password, ctx.app.config.auth.passwordHashCost);
  let user;
  try {
    user = await db.$transaction(async (tx) => {
      const created = await tx.user.create({ data: { email: data.email, name: data.name, passwordHash } });
      if (invite) {
        const claimed = await tx.invite.updateMany({
          where: { id: invite.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
          data: { acceptedAt: new Date() },
        });
        if (!claimed.count) throw refuseInvite();
        await tx.membership.create({ data: { orgId: invite.orgId, userId: created.id, role: invite.role } });
      }
      return created;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('An account with this email already exists', { field: 'email' });
    throw err;
  }
  ctx.log.info({ userId: user.id, inviteId: invite?.id }, 'user registered');
  if (invite) {
    ctx.app.pubsub.publish('org:membershipChanged', invite.orgId, { userId: user.id, role: invite.role, change: 'JOINED' });
    await appendOrgRooms(ctx.app, invite.orgId, user.id, 'RoomAdded');
  }
  if (mailConfigured(ctx.app) || requireVerifiedEmail) await sendVerification(ctx, user);
  return issueTokens(ctx, user.id);
}

/**
 * Checks a password of the account `email` against the login throttle (login, changePassword, deleteAccount):
 * each attempt is counted per email and per client address BEFORE the password is checked, each count atomic
 * (in memory or in Redis), so attempts sent at once cannot all be checked against one stale count. Past the
 * limit every attempt is refused (RATE_LIMITED) until the window ends, even with the right password. A success
 * gives its counts back (the email's window starts over), so only failures use up the limits. `hash` undefined
 * (no such account) costs the same as a wrong password.
 */
export async function throttledPasswordCheck(ctx: Context, email: string, password: string, hash: string | undefined): Promise<boolean> {
  const { loginMaxAttempts: max, loginWindowSec: window } = ctx.app.config.auth;
  const { limiter } = ctx.app;
  const [byEmail, byAddress] = [
    { key: `login:email:${email}`, max },
    { key: `login:ip:${ctx.clientIp}`, max: max * 5 },
  ];
  for (const limit of [byEmail, byAddress]) {
    const hit = await limiter.hit(limit.key, limit.max, window);
    if (hit.allowed) continue;
    // A refused attempt is not held against the email as well: it was never checked.
    if (limit === byAddress) await limiter.refund(byEmail.key, byEmail.max, window);
    throw rateLimited('Too many failed password attempts; try again later', hit.retryAfterSec);
  }
  const ok = await verifyPassword(password, hash ?? (await dummyHash(ctx.app.config.auth.passwordHashCost)));
  if (ok) await Promise.all([limiter.reset(byEmail.key, byEmail.max, window), limiter.refund(byAddress.key, byAddress.max, window)]);
  return ok && hash !== undefined;
}

/** Unknown email and wrong password fail alike (same message, same hashing cost), throttled (throttledPasswordCheck). */
export async function login(ctx: Context, input: unknown) {
  const data = parseInput(loginInput, input);
  const user = await db.user.findUnique({ where: { email: data.email } });
  if (!(await throttledPasswordCheck(ctx, data.email, data.password, user?.passwordHash))) {
    ctx.log.warn({ email: data.email }, 'failed login');
    throw invalidCredentials();
  }
  return issueTokens(ctx, user!.id);
}

/**
 * Rotation: each refresh token works once. Presenting one that was already rotated means it leaked,
 * so the whole family (every token descended from that login) is revoked.
 */
export async function refreshAccessToken(ctx: Context, refreshToken: string) {
  const row = await db.refreshToken.findUnique({ where: { tokenHash: sha256(refreshToken) } });
  if (!row) throw appError('UNAUTHENTICATED', 'Invalid refresh token', { reason: 'REFRESH_INVALID' });
  if (row.revokedAt) throw appError('UNAUTHENTICATED', 'Refresh token revoked', { reason: 'REFRESH_REVOKED' });
  const claimed = await db.refreshToken.updateMany({
    where: { id: row.id, rotatedAt: null, revokedAt: null },
    data: { rotatedAt: new Date() },
  });
  if (claimed.count === 0) {
    await revokeFamily(row.familyId);
    ctx.log.warn({ userId: row.userId, familyId: row.familyId }, 'refresh token reuse; family revoked');
    throw appError('UNAUTHENTICATED', 'Refresh token already used; all sessions from this login were revoked', {
      reason: 'REFRESH_REUSED',
    });
  }
  if (row.expiresAt < new Date()) throw appError('UNAUTHENTICATED', 'Refresh token expired', { reason: 'REFRESH_EXPIRED' });
  return issueTokens(ctx, row.userId, row.familyId);
}

const revokeFamily = (familyId: string) =>
  db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: new Date() } });

/** Revokes the token's login (its family), or with `everywhere` every login of its user. */
export async function logout(ctx: Context, refreshToken: string, everywhere = false): Promise<boolean> {
  const row = await db.refreshToken.findUnique({ where: { tokenHash: sha256(refreshToken) } });
  if (!row) return false;
  if (everywhere) await revokeEveryLogin(ctx.app, row.userId);
  else await revokeFamily(row.familyId);
  return true;
}

/**
 * Ends every login of a user (logout everywhere; a password change or account deletion must call it too):
 * refresh tokens revoked, access tokens voided by raising the user's tokenVersion, and, once that has
 * committed, every socket opened with them closed on every instance (4403) and their streams ended.
 */
export async function revokeEveryLogin(app: AppServices, userId: string): Promise<void> {
  await db.$transaction((tx) => revokeLoginsIn(tx, userId));
  announceRevocation(app, userId);
}

/** revokeEveryLogin's writes, inside a transaction that changes more (a new password); then call announceRevocation. */
export async function revokeLoginsIn(tx: Tx, userId: string, data: Prisma.UserUpdateInput = {}): Promise<void> {
  await tx.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
  await tx.user.update({ where: { id: userId }, data: { ...data, tokenVersion: { increment: 1 } } });
}

/** After revokeLoginsIn has committed: sockets opened with the user's tokens close on every instance, their streams end. */
export function announceRevocation(app: AppServices, userId: string): void {
  announceAccessChange(app.pubsub, { subjects: [`user:${userId}`], revoked: true });
}

/** Users see themselves and the people they share an org with. */
export async function canSeeUser(viewerUserId: string, userId: string): Promise<boolean> {
  if (viewerUserId === userId) return true;
  const shared = await db.membership.count({
    where: { userId, org: { members: { some: { userId: viewerUserId } } } },
  });
  return shared > 0;
}
