import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as nip19 from 'nostr-tools/nip19';
import { verifyEvent } from 'nostr-tools/pure';
import { z } from 'zod';
import { signNostrToken } from '../../auth/nostr-token.ts';
import { sha256 } from '../../auth/tokens.ts';
import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { appError, isUniqueViolation, parseInput } from '../../errors.ts';

/** The kind of the event that answers a challenge: NIP-42's client authentication, the challenge in a `challenge` tag. */
export const NOSTR_AUTH_KIND = 22242;
/** How far an answering event's `created_at` may be before the challenge was issued (clocks disagree). */
const SKEW_SEC = 60;

const macKeys = new WeakMap<Config, Buffer>();
function macKey(config: Config) {
  let key = macKeys.get(config);
  if (!key) macKeys.set(config, (key = Buffer.from(hkdfSync('sha256', config.auth.secretKey, 'confab', 'nostr-challenge', 32))));
  return key;
}
const macOf = (config: Config, body: string) => createHmac('sha256', macKey(config)).update(body).digest('base64url').slice(0, 32);

/** A public key in hex (64 characters) or as an `npub1…` (NIP-19), as hex. */
const pubkeyInput = z
  .string()
  .trim()
  .max(100)
  .transform((value, ctx) => {
    if (/^[0-9a-f]{64}$/i.test(value)) return value.toLowerCase();
    try {
      const decoded = nip19.decode(value);
      if (decoded.type === 'npub') return decoded.data;
    } catch {
      // Reported below.
    }
    ctx.addIssue({ code: 'custom', message: 'must be a public key: 64 hex characters or an npub' });
    return z.NEVER;
  });

/**
 * A challenge is `<nonce>.<issued at, epoch s>.<MAC>`: the server keeps nothing until it is answered, so asking for
 * challenges costs it no rows; the MAC proves this server issued it and when, and (when the caller named one) for
 * which key: the MAC then covers the key, and an answer signed by another key does not check out.
 */
export function createChallenge(app: AppServices, input: { pubkey?: string | null }) {
  const { pubkey } = parseInput(z.object({ pubkey: pubkeyInput.nullish() }), input);
  const issuedAt = Math.floor(app.clock().getTime() / 1000);
  const body = `${randomBytes(18).toString('base64url')}.${issuedAt}`;
  return { challenge: `${body}.${macOf(app.config, `${body}.${pubkey ?? ''}`)}`, expiresAt: new Date((issuedAt + app.config.nostr.challengeTtlSec) * 1000) };
}

const refused = (reason: string, message: string) => appError('UNAUTHENTICATED', message, { reason });

/** The challenge's issue time if this server issued it, unbound or for this key (its MAC checks out); undefined otherwise. */
function issuedAtOf(config: Config, challenge: string, pubkey: string): number | undefined {
  const parts = challenge.split('.');
  if (parts.length !== 3) return undefined;
  const [nonce, issued, mac] = parts;
  const given = Buffer.from(mac);
  const matches = (key: string) => {
    const want = Buffer.from(macOf(config, `${nonce}.${issued}.${key}`));
    return given.length === want.length && timingSafeEqual(given, want);
  };
  return matches(pubkey) || matches('') ? Number(issued) : undefined;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters');
const eventShape = z.object({
  id: hex64,
  pubkey: hex64,
  sig: z.string().regex(/^[0-9a-f]{128}$/, 'must be 128 lowercase hex characters'),
  kind: z.number().int(),
  created_at: z.number().int().nonnegative(),
  tags: z.array(z.array(z.string().max(1000)).max(10)).max(20),
  content: z.string().max(2000),
});

/**
 * Checks a signed answer to a challenge and issues a short-lived x-nostr-token for its key. The event must be of
 * kind 22242 with the challenge in a `challenge` tag, signed by its `pubkey` (nostr-tools' verifyEvent checks the
 * id and the Schnorr signature), created within the challenge's lifetime, and the challenge not answered before:
 * its hash is the key of a NostrChallengeUse row, so two answers racing (on any instances) cannot both pass.
 */
export async function verifyChallenge(app: AppServices, input: { event?: unknown }) {
  const { event } = parseInput(z.object({ event: eventShape }), input);
  if (event.kind !== NOSTR_AUTH_KIND) throw refused('NOSTR_EVENT_INVALID', `The event must be of kind ${NOSTR_AUTH_KIND}`);
  // A fresh object with only the event's fields: verifyEvent caches its answer on the object it is given.
  if (!verifyEvent({ ...event })) throw refused('NOSTR_SIGNATURE_INVALID', 'The event signature does not check out');
  const challenge = event.tags.find((t) => t[0] === 'challenge')?.[1];
  const issuedAt = challenge === undefined ? undefined : issuedAtOf(app.config, challenge, event.pubkey);
  if (challenge === undefined || issuedAt === undefined) throw refused('NOSTR_CHALLENGE_INVALID', 'The event carries no challenge this server issued');
  const nowSec = Math.floor(app.clock().getTime() / 1000);
  const expiresAtSec = issuedAt + app.config.nostr.challengeTtlSec;
  if (nowSec > expiresAtSec) throw refused('NOSTR_CHALLENGE_EXPIRED', 'The challenge has expired; ask for a new one');
  if (event.created_at < issuedAt - SKEW_SEC || event.created_at > expiresAtSec) {
    throw refused('NOSTR_EVENT_TIME', "The event was not created within the challenge's lifetime");
  }
  try {
    await db.nostrChallengeUse.create({ data: { challengeHash: sha256(challenge), pubkey: event.pubkey, expiresAt: new Date(expiresAtSec * 1000) } });
  } catch (err) {
    if (isUniqueViolation(err)) throw refused('NOSTR_CHALLENGE_USED', 'This challenge has already been answered');
    throw err;
  }
  // Answered challenges past their lifetime cannot be answered again anyway: their rows go.
  void db.nostrChallengeUse.deleteMany({ where: { expiresAt: { lt: new Date((nowSec - 1) * 1000) } } }).catch(() => undefined);
  const { token, expiresAt } = await signNostrToken(app.config, event.pubkey, app.clock().getTime());
  return { token, pubkey: event.pubkey, expiresAt };
}

/** The identity row a session binds to (made on first use; two first uses racing both succeed). */
export async function ensureNostrIdentity(app: AppServices, pubkey: string) {
  await db.nostrIdentity.createMany({ data: [{ pubkey, updatedAt: app.clock() }] }).catch((err: unknown) => {
    if (!isUniqueViolation(err)) throw err;
  });
}
