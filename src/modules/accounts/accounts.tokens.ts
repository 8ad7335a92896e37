// Single-use, short-lived tokens mailed to a user (UserToken: PASSWORD_RESET, EMAIL_VERIFICATION): 32 random
// bytes, of which only the SHA-256 is stored. Using one is a conditional update on `usedAt`, so of two uses
// at once exactly one wins.
import { randomToken, sha256 } from '../../auth/tokens.ts';
import { db, type Tx } from '../../db/client.ts';
import { badInput, gone } from '../../errors.ts';
import type { UserToken } from '../../generated/sqlite/client.ts';

export type UserTokenKind = 'PASSWORD_RESET' | 'EMAIL_VERIFICATION';

const PREFIX: Record<UserTokenKind, string> = { PASSWORD_RESET: 'cfp_', EMAIL_VERIFICATION: 'cfv_' };

/** `now`: the app's clock (AppServices.clock), which tests move. A new token for the user's address `email`, good for `ttlSec`; returns the token (shown once: in the mail). */
export async function issueUserToken(userId: string, kind: UserTokenKind, email: string, ttlSec: number, now: Date): Promise<string> {
  const token = randomToken(PREFIX[kind]);
  await db.userToken.create({ data: { userId, kind, email, tokenHash: sha256(token), createdAt: now, expiresAt: new Date(now.getTime() + ttlSec * 1000) } });
  return token;
}

/**
 * The unused, unexpired token of this kind: unknown or used, BAD_USER_INPUT (field token); expired, GONE.
 * `mine`: only the user it was issued to may use it (someone else's looks unknown).
 */
export async function usableToken(kind: UserTokenKind, token: string, now: Date, mine?: string): Promise<UserToken> {
  const row = await db.userToken.findUnique({ where: { tokenHash: sha256(token) } });
  if (!row || row.kind !== kind || row.usedAt || (mine !== undefined && row.userId !== mine)) {
    throw badInput('token: unknown or already used; ask for a new one', 'token');
  }
  if (row.expiresAt <= now) throw gone('This link has expired; ask for a new one');
  return row;
}

/** Marks the token used inside `tx`, if nobody did first; else BAD_USER_INPUT (the transaction rolls back). */
export async function claimToken(tx: Tx, row: UserToken, now: Date): Promise<void> {
  const { count } = await tx.userToken.updateMany({ where: { id: row.id, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
  if (count !== 1) throw badInput('token: unknown or already used; ask for a new one', 'token');
}
