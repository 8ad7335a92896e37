import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { dummyHash, hashPassword, verifyPassword } from '../../auth/passwords.ts';
import { randomToken, sha256, signAccessToken } from '../../auth/tokens.ts';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { announceAccessChange } from '../../live/access.ts';
import { appError, conflict, isUniqueViolation, parseInput, rateLimited, unauthenticated } from '../../errors.ts';

const email = z.string().trim().toLowerCase().pipe(z.email('must be a valid email address')).pipe(z.string().max(254));
const password = z.string().min(10, 'must be at least 10 characters').max(256, 'must be at most 256 characters');
const registerInput = z.object({ email, password, name: z.string().trim().min(1, 'is required').max(100) });
const loginInput = z.object({ email: z.string().trim().toLowerCase().max(254), password: z.string().max(256) });

const REFRESH_PREFIX = 'cfr_';
const invalidCredentials = () => unauthenticated('Invalid email or password');

/** Access token plus a new refresh token in `familyId` (a new family for a fresh login). */
async function issueTokens(ctx: Context, userId: string, familyId: string = randomUUID()) {
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

export async function register(ctx: Context, input: unknown) {
  const data = parseInput(registerInput, input);
  const passwordHash = await hashPassword(data.password, ctx.app.config.auth.passwordHashCost);
  try {
    const user = await db.user.create({ data: { email: data.email, name: data.name, passwordHash } });
    ctx.log.info({ userId: user.id }, 'user registered');
    return issueTokens(ctx, user.id);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('An account with this email already exists', { field: 'email' });
    throw err;
  }
}

/**
 * Unknown email and wrong password fail alike (same message, same hashing cost). Attempts are counted
 * per email and per client address BEFORE the password is checked, each count atomic (in memory or in
 * Redis): attempts sent at once cannot all be checked against one stale count. Past the limit every
 * attempt is refused until the window ends, even with the right password. A success gives its counts
 * back (the email's window starts over), so only failures use up the limits.
 */
export async function login(ctx: Context, input: unknown) {
  const data = parseInput(loginInput, input);
  const { loginMaxAttempts: max, loginWindowSec: window } = ctx.app.config.auth;
  const { limiter } = ctx.app;
  const [byEmail, byAddress] = [
    { key: `login:email:${data.email}`, max },
    { key: `login:ip:${ctx.clientIp}`, max: max * 5 },
  ];
  for (const limit of [byEmail, byAddress]) {
    const hit = await limiter.hit(limit.key, limit.max, window);
    if (hit.allowed) continue;
    // A refused attempt is not held against the email as well: it was never checked.
    if (limit === byAddress) await limiter.refund(byEmail.key, byEmail.max, window);
    throw rateLimited('Too many failed login attempts; try again later', hit.retryAfterSec);
  }

  const user = await db.user.findUnique({ where: { email: data.email } });
  const hash = user?.passwordHash ?? (await dummyHash(ctx.app.config.auth.passwordHashCost));
  const ok = await verifyPassword(data.password, hash);
  if (!user || !ok) {
    ctx.log.warn({ email: data.email }, 'failed login');
    throw invalidCredentials();
  }
  await Promise.all([limiter.reset(byEmail.key, byEmail.max, window), limiter.refund(byAddress.key, byAddress.max, window)]);
  return issueTokens(ctx, user.id);
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
  await db.$transaction([
    db.refreshToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } }),
    db.user.update({ where: { id: userId }, data: { tokenVersion: { increment: 1 } } }),
  ]);
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
