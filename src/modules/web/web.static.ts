import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names built assets by content hash, so they never change under a name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

async function file(path: string, cacheControl: string, transform?: (text: string) => string): Promise<Response | undefined> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const headers = {
    'content-type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': cacheControl,
    'x-content-type-options': 'nosniff',
  };
  const body = await readFile(path);
  return new Response(transform ? transform(body.toString('utf8')) : body, { headers });
}

/**
 * Serves a built single-page app from `root` under `mount` (e.g. `/app`). A path with a file
 * extension is a file: served with its content type, or 404 (so a missing script is not answered
 * with HTML). Any other path is a client-side route: index.html (passed through `transformIndex`),
 * never cached, so a new build shows up at once. Paths escaping `root` are refused.
 */
export async function serveSpa(root: string, mount: string, pathname: string, transformIndex?: (html: string) => string): Promise<Response> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname.slice(mount.length + 1));
  } catch {
    return new Response('Bad request', { status: 400 });
  }
  const path = normalize(join(root, rel));
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return new Response('Not found', { status: 404 });
  if (extname(rel)) {
    const found = await file(path, rel.startsWith('assets/') ? IMMUTABLE : 'no-cache');
    return found ?? new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  const index = await file(join(root, 'index.html'), 'no-cache', transformIndex);
  return index ?? new Response('The web client is not built: run `npm run build:web`.', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
