// Local storage's HTTP side: `PUT /attachments/<id>?token=…` takes an upload's bytes (streamed to disk,
// bigger than server.max_body_bytes), `GET /attachments/<id>/<name>?token=…` serves them. Both URLs come
// signed from the API (createUpload, Attachment.url). With S3 storage clients use the store's URLs instead.
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Route } from '../../app-module.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { removeAttachments } from './attachments.service.ts';
import { isTextType, SNIFF_BYTES, sniff, textChecker } from './attachments.sniff.ts';
import { contentDisposition, storageFor, type LocalStorage } from './attachments.storage.ts';
import { verifyUrlToken, type UrlPurpose } from './attachments.tokens.ts';

const PREFIX = '/attachments/';

/** An error as the API's other HTTP refusals look (src/http/limits.ts): `{ errors: [{ message, extensions: { code, reason } }] }`. */
function refuse(status: number, code: string, reason: string, message: string, extra: Record<string, unknown> = {}): Response {
  const res = Response.json({ errors: [{ message, extensions: { code, reason, ...extra } }] }, { status });
  // The unread rest of an upload must not be taken for the next request.
  res.headers.set('connection', 'close');
  res.headers.set('cache-control', 'no-store');
  return res;
}

/** The attachment id a signed URL names, or the refusal: 403 for a bad or expired token (an expired one says so). */
async function checkToken(app: AppServices, request: Request, purpose: UrlPurpose): Promise<string | Response> {
  const url = new URL(request.url);
  const id = decodeURIComponent(url.pathname.slice(PREFIX.length).split('/')[0] ?? '');
  const check = await verifyUrlToken(app.config, url.searchParams.get('token') ?? '', purpose);
  if (!check.ok) {
    return check.reason === 'EXPIRED'
      ? refuse(403, 'FORBIDDEN', 'URL_EXPIRED', `This ${purpose} URL has expired; ask the API for a new one`)
      : refuse(403, 'FORBIDDEN', 'URL_INVALID', `This ${purpose} URL is not valid`);
  }
  if (check.attachmentId !== id) return refuse(403, 'FORBIDDEN', 'URL_INVALID', `This ${purpose} URL is not valid`);
  return id;
}

/**
 * One upload. Accepted only while the attachment is PENDING and nothing is being written for it (the partial
 * file is created exclusively, so a second PUT at the same time is refused too): the URL is good for one
 * upload. The body is streamed to disk and cut off at the declared byteSize + 1 bytes. The stored file must
 * be exactly byteSize bytes and sniff as the declared type; then width and height are recorded (images) and
 * the attachment is READY. A refused upload is deleted, row and bytes: the client starts again with createUpload.
 */
async function upload(request: Request, app: AppServices): Promise<Response> {
  const id = await checkToken(app, request, 'upload');
  if (id instanceof Response) return id;
  const storage = storageFor(app.config) as LocalStorage;
  const a = await db.attachment.findUnique({ where: { id } });
  if (!a) return refuse(404, 'NOT_FOUND', 'UPLOAD_GONE', 'This upload no longer exists (refused earlier, or expired); start again with createUpload');
  if (a.status !== 'PENDING') return refuse(409, 'CONFLICT', 'ALREADY_UPLOADED', 'This upload URL was already used: each is good for one upload');
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) !== a.byteSize) {
    const over = Number(declared) > a.byteSize;
    return refuse(over ? 413 : 400, 'BAD_USER_INPUT', over ? 'PAYLOAD_TOO_LARGE' : 'SIZE_MISMATCH', `The body is ${declared} bytes; this upload was declared as ${a.byteSize}`, { limit: a.byteSize });
  }
  const path = storage.pathOf(a);
  const part = `${path}.part`;
  let file;
  try {
    await mkdir(storage.dir, { recursive: true });
    file = await open(part, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return refuse(409, 'CONFLICT', 'ALREADY_UPLOADED', 'An upload to this URL is already under way');
    throw err;
  }
  const failed = async (res: Response) => {
    await rm(part, { force: true });
    await removeAttachments(app, { id, status: 'PENDING' });
    return res;
  };
  let size = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  const text = isTextType(a.contentType) ? textChecker() : undefined;
  try {
    const reader = request.body?.getReader();
    for (;;) {
      const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
      if (chunk.done) break;
      const bytes = chunk.value;
      size += bytes.byteLength;
      if (size > a.byteSize) {
        await reader?.cancel().catch(() => {});
        await file.close();
        return failed(refuse(413, 'BAD_USER_INPUT', 'PAYLOAD_TOO_LARGE', `More bytes than the ${a.byteSize} declared; the upload is deleted`, { limit: a.byteSize }));
      }
      if (headBytes < SNIFF_BYTES) {
        head.push(Buffer.from(bytes.subarray(0, SNIFF_BYTES - headBytes)));
        headBytes += Math.min(bytes.byteLength, SNIFF_BYTES - headBytes);
      }
      text?.push(bytes);
      await file.write(bytes);
    }
  } catch (err) {
    await file.close().catch(() => {});
    app.log.warn({ err, attachmentId: id }, 'upload broke off');
    return failed(refuse(400, 'BAD_USER_INPUT', 'UPLOAD_INCOMPLETE', 'The upload broke off; the upload is deleted'));
  }
  await file.close();
  if (size !== a.byteSize) {
    return failed(refuse(400, 'BAD_USER_INPUT', 'SIZE_MISMATCH', `Got ${size} bytes; this upload was declared as ${a.byteSize}. The upload is deleted`, { limit: a.byteSize }));
  }
  const sniffed = await sniff(a.contentType, Buffer.concat(head), text?.end());
  if (!sniffed.ok) return failed(refuse(415, 'BAD_USER_INPUT', 'TYPE_MISMATCH', `Refused: ${sniffed.reason}. The upload is deleted`));
  await rename(part, path);
  const { count } = await db.attachment.updateMany({ where: { id, status: 'PENDING' }, data: { status: 'READY', width: sniffed.width, height: sniffed.height } });
  if (!count) {
    await rm(path, { force: true });
    return refuse(404, 'NOT_FOUND', 'UPLOAD_GONE', 'This upload no longer exists');
  }
  return Response.json({ id, status: 'READY', byteSize: size, width: sniffed.width, height: sniffed.height }, { status: 200, headers: { 'cache-control': 'no-store' } });
}

/** A download: the stored bytes with the stored type, as an attachment (images inline), never sniffed by the browser. */
async function download(request: Request, app: AppServices): Promise<Response> {
  const id = await checkToken(app, request, 'download');
  if (id instanceof Response) return id;
  const storage = storageFor(app.config) as LocalStorage;
  const a = await db.attachment.findUnique({ where: { id } });
  if (!a || a.status !== 'READY') return refuse(404, 'NOT_FOUND', 'NOT_FOUND', 'This file no longer exists');
  const path = storage.pathOf(a);
  const size = await stat(path).then((s) => s.size, () => null);
  if (size === null) return refuse(404, 'NOT_FOUND', 'NOT_FOUND', 'This file no longer exists');
  const body = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': a.contentType,
      'content-length': String(size),
      'content-disposition': contentDisposition(a),
      'x-content-type-options': 'nosniff',
      // Only this file, and nothing it could run.
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=300',
    },
  });
}

/** Local storage's routes; with S3 storage there are none (the store serves the bytes). */
export function attachmentRoutes(): Route[] {
  return [
    { method: 'PUT', path: `${PREFIX}*`, rawBody: true, handler: (request, app) => (storageFor(app.config).kind === 'local' ? upload(request, app) : notLocal()) },
    { method: 'GET', path: `${PREFIX}*`, handler: (request, app) => (storageFor(app.config).kind === 'local' ? download(request, app) : notLocal()) },
  ];
}

const notLocal = () => refuse(404, 'NOT_FOUND', 'NOT_FOUND', 'Attachments are stored in S3 on this server: use the URLs the API gives');
