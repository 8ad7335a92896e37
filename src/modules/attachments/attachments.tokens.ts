// The signed tokens of local storage's upload and download URLs: a JWT (HS256, a key derived from the server
// secret for this use only) naming the attachment, what the URL is for, and when it expires.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { hmacKey } from '../../auth/tokens.ts';
import type { Config } from '../../config.ts';

export type UrlPurpose = 'upload' | 'download';


/** Derived from the server secret with its own label, so these tokens can never pass for access tokens (and back). */
const urlKey = (config: Config) => hmacKey(config, 'attachment-url-signing');

/**
 * A token for one attachment and one purpose, valid until `expiresAt` (epoch ms). JWT `exp` counts whole
 * seconds, so the expiry is rounded down to a second: the URL never outlives what the API said.
 */
export async function signUrlToken(config: Config, attachmentId: string, purpose: UrlPurpose, expiresAt: number): Promise<string> {
  return new SignJWT({ pur: purpose })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(attachmentId)
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(await urlKey(config));
}

/** The expiry a URL made now with `ttlSec` gets, in epoch ms, on a whole second (as the token carries it). */
export const urlExpiry = (now: number, ttlSec: number) => Math.floor(now / 1000 + ttlSec) * 1000;

export type UrlTokenCheck = { ok: true; attachmentId: string } | { ok: false; reason: 'EXPIRED' | 'INVALID' };

/** Checks a URL token for this purpose; a token of the other purpose, another key or a bad shape is INVALID. */
export async function verifyUrlToken(config: Config, token: string, purpose: UrlPurpose): Promise<UrlTokenCheck> {
  try {
    const { payload } = await jwtVerify(token, await urlKey(config), { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'], clockTolerance: 0 });
    if (payload.pur !== purpose || typeof payload.sub !== 'string') return { ok: false, reason: 'INVALID' };
    return { ok: true, attachmentId: payload.sub };
  } catch (err) {
    return { ok: false, reason: err instanceof joseErrors.JWTExpired ? 'EXPIRED' : 'INVALID' };
  }
}
