// exportMyData: a signed, expiring link to an archive of the viewer's own data. The archive is built when the link
// is opened, so it holds the data as it is then; the link names the user and their tokenVersion, so a password
// change, a logout everywhere or the account's deletion voids it.
import { strToU8, zipSync } from 'fflate';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Route } from '../../app-module.ts';
import { requireUserId } from '../../auth/rules.ts';
import { hmacKey } from '../../auth/tokens.ts';
import type { Config } from '../../config.ts';
import type { AppServices, Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { rateLimited } from '../../errors.ts';
import { collectExport } from './accounts.export-data.ts';

export type ExportFormat = 'ZIP' | 'JSON';
const PREFIX = '/exports/';

/** Derived from the server secret with its own label: an export link can never pass for an access token (or back). */
const exportKey = (config: Config) => hmacKey(config, 'export-url-signing');

function serverOrigin(ctx: Context): string {
  const { host, port } = ctx.app.config.server;
  return ctx.origin ?? `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
}

/** A download link for the viewer's archive, good for privacy.export_url_ttl_sec. At most 5 an hour per user. */
export async function exportMyData(ctx: Context, format: ExportFormat): Promise<{ url: string; expiresAt: Date }> {
  const userId = requireUserId(ctx);
  const hit = await ctx.app.limiter.hit(`export:${userId}`, 5, 3600);
  if (!hit.allowed) throw rateLimited(`At most 5 exports an hour; try again in ${hit.retryAfterSec} s`, hit.retryAfterSec);
  const { tokenVersion } = await db.user.findUniqueOrThrow({ where: { id: userId }, select: { tokenVersion: true } });
  const expiresAt = Math.floor(Date.now() / 1000 + ctx.app.config.privacy.exportUrlTtlSec);
  const token = await new SignJWT({ ver: tokenVersion, fmt: format })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setExpirationTime(expiresAt)
    .sign(await exportKey(ctx.app.config));
  const name = `confab-export.${format === 'ZIP' ? 'zip' : 'json'}`;
  return { url: `${serverOrigin(ctx)}${PREFIX}${name}?token=${token}`, expiresAt: new Date(expiresAt * 1000) };
}

function refuse(status: number, code: string, reason: string, message: string): Response {
  return Response.json({ errors: [{ message, extensions: { code, reason } }] }, { status, headers: { 'cache-control': 'no-store' } });
}

/** `GET /exports/<name>?token=…`: the archive, built now (403 for a bad, expired or revoked link). */
async function download(request: Request, app: AppServices): Promise<Response> {
  const token = new URL(request.url).searchParams.get('token') ?? '';
  let claims: { sub?: string; ver?: unknown; fmt?: unknown };
  try {
    ({ payload: claims } = await jwtVerify(token, await exportKey(app.config), { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'], clockTolerance: 0 }));
  } catch (err) {
    return err instanceof joseErrors.JWTExpired
      ? refuse(403, 'FORBIDDEN', 'URL_EXPIRED', 'This export link has expired; ask for a new one with exportMyData')
      : refuse(403, 'FORBIDDEN', 'URL_INVALID', 'This export link is not valid');
  }
  const user = await db.user.findUnique({ where: { id: claims.sub! }, select: { tokenVersion: true, deletedAt: true } });
  if (!user || user.deletedAt || user.tokenVersion !== claims.ver) {
    return refuse(403, 'FORBIDDEN', 'URL_REVOKED', 'This export link was revoked (password changed, signed out everywhere or account deleted)');
  }
  const hit = await app.limiter.hit(`export:download:${claims.sub}`, 20, 3600);
  if (!hit.allowed) return refuse(429, 'RATE_LIMITED', 'RATE_LIMITED', `Too many downloads; try again in ${hit.retryAfterSec} s`);
  const data = await collectExport(claims.sub!);
  const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (claims.fmt === 'JSON') {
    return new Response(JSON.stringify(data, null, 2), {
      headers: { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-disposition': 'attachment; filename="confab-export.json"' },
    });
  }
  const files: Record<string, Uint8Array> = {};
  for (const [section, rows] of Object.entries(data)) files[`confab-export/${section}.json`] = strToU8(JSON.stringify(rows, null, 2));
  return new Response(zipSync(files, { level: 6 }), {
    headers: { ...headers, 'content-type': 'application/zip', 'content-disposition': 'attachment; filename="confab-export.zip"' },
  });
}

export const exportRoutes: Route[] = [{ method: 'GET', path: `${PREFIX}*`, handler: download }];
