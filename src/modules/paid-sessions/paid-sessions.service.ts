import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { randomToken, sha256 } from '../../auth/tokens.ts';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { appError, badInput, conflict, forbidden, gone, isUniqueViolation, notFound, parseInput, rateLimited } from '../../errors.ts';
import type { Session } from '../../generated/sqlite/client.ts';
import { issueInvoice } from '../invoices/invoices.service.ts';
import { ensureNostrIdentity } from './nostr.service.ts';
import { expireIfDue } from './paid-sessions.ledger.ts';

/** Session tokens look like `cfs_<43 base64url chars>`: 256 random bits, stored only as SHA-256. */
export const SESSION_TOKEN_PREFIX = 'cfs_';

const amount = (app: AppServices) => {
  const { minSats, maxSats } = app.config.paidSessions;
  return z.number().int().min(minSats, `must be at least ${minSats} sats`).max(maxSats, `must be at most ${maxSats} sats`);
};

/**
 * The session a token opens, for `Authorization: Bearer cfs_…`. Unknown → UNAUTHENTICATED; a session
 * that has expired or closed → GONE (the token was real, the session is over).
 */
export async function sessionForToken(app: AppServices, token: string) {
  const session = await db.session.findUnique({ where: { tokenHash: sha256(token) } });
  if (!session) throw appError('UNAUTHENTICATED', 'Invalid session token', { reason: 'SESSION_TOKEN_INVALID' });
  await expireIfDue(app, session);
  const fresh = await db.session.findUniqueOrThrow({ where: { id: session.id } });
  if (fresh.state === 'EXPIRED' || fresh.state === 'CLOSED') throw gone('This session has expired');
  return fresh;
}

/**
 * May the viewer see and use this prepaid session? Its token holder and its owner may; nobody else
 * learns it exists (NOT_FOUND).
 */
export function canAccessSession(ctx: Context, session: Pick<Session, 'id' | 'ownerId' | 'prepaid'>) {
  const v = ctx.viewer;
  if (!session.prepaid) return false;
  if (v.kind === 'session') return v.sessionId === session.id;
  if (v.kind === 'user') return session.ownerId === v.userId;
  return false;
}

export async function checkSessionAccess(ctx: Context, sessionId: string) {
  const session = await db.session.findUnique({ where: { id: sessionId } });
  return session && canAccessSession(ctx, session) ? true : notFound('Session');
}

const openInput = (app: AppServices) => z.object({ amountSats: amount(app), threadId: z.string().optional() });

/**
 * Opens a prepaid session waiting for its deposit. With a thread, the signed-in user needs write access
 * to it, and the session becomes the thread's current one once paid. The token is returned only here.
 * With a Nostr token (ctx.nostr), the session is bound to its key.
 */
export async function openPaidSession(ctx: Context, input: { amountSats: number; threadId?: string | null }) {
  const data = parseInput(openInput(ctx.app), { ...input, threadId: input.threadId ?? undefined });
  const v = ctx.viewer;
  if (v.kind === 'apiKey') throw forbidden('Prepaid sessions are opened by people (signed in or anonymous), not API keys');
  const ownerId = v.kind === 'user' ? v.userId : null;
  const { openPerMinute } = ctx.app.config.paidSessions;
  if (openPerMinute) {
    const hit = await ctx.app.limiter.hit(`paid-open:${ownerId ?? ctx.clientIp}`, openPerMinute, 60);
    if (!hit.allowed) throw rateLimited('Too many sessions opened; try again later', hit.retryAfterSec);
  }
  // Write access to the thread was checked by the permission rule.
  const thread = data.threadId ? await db.thread.findUnique({ where: { id: data.threadId }, select: { id: true, orgId: true } }) : null;
  if (data.threadId && !thread) throw notFound('Thread');
  // A valid x-nostr-token binds its key: the session's trust is that key's unless it has an owner.
  const nostrPubkey = ctx.nostr?.pubkey ?? null;
  if (nostrPubkey) await ensureNostrIdentity(ctx.app, nostrPubkey);
  const sessionId = crypto.randomUUID();
  const invoice = await issueInvoice(ctx.app, sessionId, 'DEPOSIT', data.amountSats);
  const token = randomToken(SESSION_TOKEN_PREFIX);
  const session = await db.$transaction(async (tx) => {
    const index = thread ? ((await tx.session.aggregate({ where: { threadId: thread.id }, _max: { index: true } }))._max.index ?? 0) + 1 : 1;
    const created = await tx.session.create({
      data: {
        id: sessionId,
        threadId: thread?.id,
        orgId: thread?.orgId,
        ownerId,
        nostrPubkey,
        index,
        prepaid: true,
        state: 'AWAITING_PAYMENT',
        tokenHash: sha256(token),
        // Unpaid, the session lives as long as its deposit invoice.
        expiresAt: invoice.expiresAt,
      },
    });
    await tx.invoice.create({ data: invoice });
    return created;
  });
  const stored = await db.invoice.findUniqueOrThrow({ where: { id: invoice.id } });
  return { session, invoice: stored, token };
}

/** A live session, or the error that explains why not (expired → GONE). */
export async function liveSession(ctx: Context, sessionId: string) {
  const session = await db.session.findUnique({ where: { id: sessionId } });
  if (!session || !canAccessSession(ctx, session)) throw notFound('Session');
  if (await expireIfDue(ctx.app, session)) throw gone('This session has expired');
  if (session.state === 'EXPIRED' || session.state === 'CLOSED') throw gone('This session has expired');
  return session;
}

/**
 * One pending top-up at a time: a second request gets CONFLICT naming the pending invoice. The unique
 * `pendingKey` makes that hold even when two top-ups race past the first check.
 */
export async function topUpSession(ctx: Context, sessionId: string, input: { amountSats: number }) {
  const { amountSats } = parseInput(z.object({ amountSats: amount(ctx.app) }), input);
  const session = await liveSession(ctx, sessionId);
  if (session.state === 'AWAITING_PAYMENT') throw conflict('The deposit has not been paid yet');
  const pendingConflict = async () => {
    const pending = await db.invoice.findFirst({ where: { sessionId, kind: 'TOPUP', state: 'PENDING' } });
    return conflict('A top-up invoice is already pending; pay it or let it expire', {
      pendingInvoiceId: pending ? encodeGlobalID('Invoice', pending.id) : null,
      paymentRequest: pending?.paymentRequest ?? null,
    });
  };
  if (await db.invoice.count({ where: { sessionId, kind: 'TOPUP', state: 'PENDING' } })) throw await pendingConflict();
  const invoice = await issueInvoice(ctx.app, sessionId, 'TOPUP', amountSats);
  try {
    return { session, invoice: await db.invoice.create({ data: invoice }) };
  } catch (err) {
    if (isUniqueViolation(err)) throw await pendingConflict();
    throw err;
  }
}

/**
 * Forgets a standalone session's conversation (its requests and balance stay). A thread's session shares
 * the thread's history, which is the thread's to manage, so it is refused.
 */
export async function clearSessionHistory(ctx: Context, sessionId: string) {
  const session = await liveSession(ctx, sessionId);
  if (session.threadId) throw badInput("This session belongs to a thread; its messages are the thread's history", 'sessionId');
  const count = await db.$transaction(async (tx) => {
    const { count } = await tx.message.deleteMany({ where: { sessionId } });
    await tx.session.update({ where: { id: sessionId }, data: { historyTokens: 0, summary: null } });
    return count;
  });
  return { session: await db.session.findUniqueOrThrow({ where: { id: sessionId } }), deletedMessages: count };
}
