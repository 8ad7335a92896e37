import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Config } from '../config.ts';
import { appError } from '../errors.ts';

const ALG = 'HS256';
const keys = new WeakMap<Config, Map<string, Promise<CryptoKey>>>();

/**
 * An HMAC key derived from the server secret for one use, named by `label` (access tokens, attachment URLs,
 * export links, Nostr tokens): the secret itself never signs anything, and a token signed for one use never
 * verifies for another. Imported once per config and label as a WebCrypto key: handed raw bytes, jose would
 * import them again on every sign and verify (a key import per request).
 */
export function hmacKey(config: Config, label: string): Promise<CryptoKey> {
  let byLabel = keys.get(config);
  if (!byLabel) keys.set(config, (byLabel = new Map()));
  let key = byLabel.get(label);
  if (!key) {
    const raw = new Uint8Array(hkdfSync('sha256', config.auth.secretKey, 'confab', label, 32));
    key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    byLabel.set(label, key);
  }
  return key;
}

const signingKey = (config: Config) => hmacKey(config, 'access-token-signing');

/** `version`: the user's tokenVersion now; raising it (logout everywhere) voids every token signed before. */
export async function signAccessToken(config: Config, userId: string, version = 0): Promise<string> {
  return new SignJWT({ typ: 'access', ver: version })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(config.auth.issuer)
    .setAudience(config.auth.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + config.auth.accessTokenTtl)
    .sign(await signingKey(config));
}

/** Algorithm, issuer and audience are pinned: `alg: none`, other keys and other audiences fail. */
export interface AccessTokenClaims {
  userId: string;
  /** The user's tokenVersion when it was signed (0 for tokens older than the claim). */
  version: number;
  /** When it expires, in epoch ms: a socket opened with it is closed then. */
  expiresAt: number;
}

export async function verifyAccessToken(config: Config, token: string): Promise<AccessTokenClaims> {
  try {
    const { payload } = await jwtVerify(token, await signingKey(config), {
      algorithms: [ALG],
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    if (payload.typ !== 'access' || typeof payload.sub !== 'string') throw new Error('not an access token');
    return { userId: payload.sub, version: typeof payload.ver === 'number' ? payload.ver : 0, expiresAt: payload.exp! * 1000 };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw appError('UNAUTHENTICATED', 'Access token expired', { reason: 'TOKEN_EXPIRED' });
    throw appError('UNAUTHENTICATED', 'Invalid access token', { reason: 'TOKEN_INVALID' });
  }
}

/** Opaque random secrets (refresh tokens, invite tokens, API keys) are stored only as SHA-256. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
export const randomToken = (prefix: string, bytes = 32) => `${prefix}${randomBytes(bytes).toString('base64url')}`;
