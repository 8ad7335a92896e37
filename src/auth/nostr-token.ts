// Nostr tokens (x-nostr-token): proof, for a short while, that the caller holds a Nostr key. They are JWTs signed
// with their own key derived from the server secret, with their own audience and type, so that one never opens
// anything an access token opens (the access token's key and audience refuse it) and an access token is never one.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config.ts';
import { hmacKey } from './tokens.ts';
import { appError } from '../errors.ts';

const ALG = 'HS256';
const TYP = 'nostr';

const nostrKey = (config: Config) => hmacKey(config, 'nostr-token-signing');

const audienceOf = (config: Config) => `${config.auth.audience}:nostr`;

/** What a valid x-nostr-token proves: this key, until `expiresAt` (epoch ms). */
export interface NostrProof {
  pubkey: string;
  expiresAt: number;
}

export async function signNostrToken(config: Config, pubkey: string, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
  const exp = Math.floor(now / 1000) + config.nostr.tokenTtlSec;
  const token = await new SignJWT({ typ: TYP })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(pubkey)
    .setIssuer(config.auth.issuer)
    .setAudience(audienceOf(config))
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(exp)
    .sign(await nostrKey(config));
  return { token, expiresAt: new Date(exp * 1000) };
}

/** A token that does not check out, or has expired, is UNAUTHENTICATED (reason NOSTR_TOKEN_INVALID / NOSTR_TOKEN_EXPIRED). */
export async function verifyNostrToken(config: Config, token: string, now = new Date()): Promise<NostrProof> {
  try {
    const { payload } = await jwtVerify(token.trim(), await nostrKey(config), {
      algorithms: [ALG],
      issuer: config.auth.issuer,
      audience: audienceOf(config),
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: now,
    });
    if (payload.typ !== TYP || typeof payload.sub !== 'string') throw new Error('not a Nostr token');
    return { pubkey: payload.sub, expiresAt: payload.exp! * 1000 };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw appError('UNAUTHENTICATED', 'The Nostr token has expired', { reason: 'NOSTR_TOKEN_EXPIRED' });
    throw appError('UNAUTHENTICATED', 'Invalid Nostr token', { reason: 'NOSTR_TOKEN_INVALID' });
  }
}

/** The header (HTTP) and connection param (graphql-ws) that carry a Nostr token. */
export const NOSTR_TOKEN_HEADER = 'x-nostr-token';
export const NOSTR_TOKEN_PARAM = 'nostrToken';
