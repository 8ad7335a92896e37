// Where attachment bytes live, behind one small interface: local disk (the default; uploads and downloads go
// through Confab's own routes, attachments.routes.ts) or any S3-compatible store (clients PUT and GET at
// presigned URLs of the store; Confab checks an upload when it is first attached, verifyUpload).
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../../config.ts';
import { isImageType, isTextType, SNIFF_BYTES, sniff, textChecker, type SniffResult } from './attachments.sniff.ts';
import { signUrlToken } from './attachments.tokens.ts';

/** The columns of an Attachment row that storage needs. */
export interface StoredFile {
  id: string;
  storageKey: string;
  filename: string;
  contentType: string;
  byteSize: number;
}

export interface UploadTarget {
  url: string;
  /** Headers the PUT must carry. */
  headers: Record<string, string>;
}

interface Common {
  /** Where the client PUTs the bytes (good until `expiresAt`, epoch ms), and with which headers. */
  uploadTarget(file: StoredFile, origin: string, expiresAt: number): Promise<UploadTarget>;
  /** A URL the file can be fetched at until `expiresAt`. */
  downloadUrl(file: StoredFile, origin: string, expiresAt: number): Promise<string>;
  /** The whole file (for a model's image parts). */
  read(file: StoredFile): Promise<Buffer>;
  /** Deletes the bytes (and any upload not yet checked); nothing to delete is fine. */
  remove(file: StoredFile): Promise<void>;
}

export interface LocalStorage extends Common {
  kind: 'local';
  dir: string;
  /** The file's path on disk (the routes write and stream it). */
  pathOf(file: Pick<StoredFile, 'storageKey'>): string;
}

/** What checking an S3 upload found: not there yet, there but wrong, or there and right (then copied to its final key). */
export type VerifyResult = { status: 'MISSING' } | { status: 'REFUSED'; reason: string } | ({ status: 'READY' } & Extract<SniffResult, { ok: true }>);

export interface S3Storage extends Common {
  kind: 's3';
  /** Checks the uploaded object (size, sniffed type, image size); when right, moves it to its final key. */
  verifyUpload(file: StoredFile): Promise<VerifyResult>;
  client: S3Client;
  bucket: string;
  uploadKeyOf(file: Pick<StoredFile, 'id'>): string;
}

export type AttachmentStorage = LocalStorage | S3Storage;

/** The storage key of a new attachment: its final place in the configured store. */
export const storageKeyFor = (config: Config, id: string) => (config.storage.s3.bucket ? `${config.storage.s3.prefix}files/${id}` : id);

/** `Content-Disposition`: inline for images, a download for anything else; the name ASCII-only plus its UTF-8 form (RFC 6266). */
export function contentDisposition(file: Pick<StoredFile, 'filename' | 'contentType'>): string {
  const ascii = file.filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(file.filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${isImageType(file.contentType) ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const cache = new WeakMap<Config, AttachmentStorage>();

/** The configured storage, one per config (so per app). */
export function storageFor(config: Config): AttachmentStorage {
  let storage = cache.get(config);
  if (!storage) cache.set(config, (storage = config.storage.s3.bucket ? s3Storage(config) : localStorage(config)));
  return storage;
}

function localStorage(config: Config): LocalStorage {
  const dir = resolve(config.storage.dir ?? join(config.dataDir, 'uploads'));
  const pathOf = (file: Pick<StoredFile, 'storageKey'>) => join(dir, file.storageKey);
  let made: Promise<unknown> | undefined;
  return {
    kind: 'local',
    dir,
    pathOf,
    async uploadTarget(file, origin, expiresAt) {
      made ??= mkdir(dir, { recursive: true });
      await made;
      const token = await signUrlToken(config, file.id, 'upload', expiresAt);
      return { url: `${origin}/attachments/${file.id}?token=${token}`, headers: { 'content-type': file.contentType } };
    },
    async downloadUrl(file, origin, expiresAt) {
      const token = await signUrlToken(config, file.id, 'download', expiresAt);
      return `${origin}/attachments/${file.id}/${encodeURIComponent(file.filename)}?token=${token}`;
    },
    read: (file) => readFile(pathOf(file)),
    async remove(file) {
      await rm(pathOf(file), { force: true });
      await rm(`${pathOf(file)}.part`, { force: true });
    },
  };
}

function s3Storage(config: Config): S3Storage {
  const s3 = config.storage.s3;
  const bucket = s3.bucket!;
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
    // Otherwise presigned PUTs carry an empty body's checksum, which MinIO, R2 and others refuse.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const uploadKeyOf = (file: Pick<StoredFile, 'id'>) => `${s3.prefix}uploads/${file.id}`;
  const secondsUntil = (at: number) => Math.max(1, Math.round((at - Date.now()) / 1000));
  const notFound = (err: unknown) => {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
  };
  const bytesOf = async (key: string, range?: string) => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
    return Buffer.from(await res.Body!.transformToByteArray());
  };
  return {
    kind: 's3',
    client,
    bucket,
    uploadKeyOf,
    async uploadTarget(file, _origin, expiresAt) {
      const command = new PutObjectCommand({ Bucket: bucket, Key: uploadKeyOf(file), ContentType: file.contentType, ContentLength: file.byteSize });
      const url = await getSignedUrl(client, command, { expiresIn: secondsUntil(expiresAt), signableHeaders: new Set(['content-type', 'content-length']) });
      return { url, headers: { 'content-type': file.contentType } };
    },
    downloadUrl(file, _origin, expiresAt) {
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: file.storageKey,
        ResponseContentType: file.contentType,
        ResponseContentDisposition: contentDisposition(file),
      });
      return getSignedUrl(client, command, { expiresIn: secondsUntil(expiresAt) });
    },
    read: (file) => bytesOf(file.storageKey),
    async remove(file) {
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: file.storageKey }, { Key: uploadKeyOf(file) }], Quiet: true } }));
    },
    async verifyUpload(file) {
      const key = uploadKeyOf(file);
      let size: number | undefined;
      try {
        size = (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength;
      } catch (err) {
        if (notFound(err)) return { status: 'MISSING' };
        throw err;
      }
      const refuse = async (reason: string): Promise<VerifyResult> => {
        await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }], Quiet: true } }));
        return { status: 'REFUSED', reason };
      };
      if (size !== file.byteSize) return refuse(`the upload is ${size} bytes, not the ${file.byteSize} declared`);
      // Text is checked whole (UTF-8 throughout); anything else by its first bytes.
      const text = isTextType(file.contentType);
      const head = await bytesOf(key, text ? undefined : `bytes=0-${SNIFF_BYTES - 1}`);
      let textOk: boolean | undefined;
      if (text) {
        const check = textChecker();
        check.push(head);
        textOk = check.end();
      }
      const sniffed = await sniff(file.contentType, head, textOk);
      if (!sniffed.ok) return refuse(sniffed.reason);
      // The checked bytes move to their final key; the upload key is gone, so its URL is spent.
      await client.send(new CopyObjectCommand({ Bucket: bucket, Key: file.storageKey, CopySource: `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}` }));
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: key }], Quiet: true } }));
      return { status: 'READY', ...sniffed };
    },
  };
}
