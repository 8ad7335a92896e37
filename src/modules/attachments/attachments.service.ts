import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { requireUserId, viewerRole } from '../../auth/rules.ts';
import type { AppServices, Context } from '../../context.ts';
import { db, type Prisma } from '../../db/client.ts';
import { badInput, notFound, parseInput, rateLimited } from '../../errors.ts';
import type { Attachment } from '../../generated/sqlite/client.ts';
import { checkRoom, roomOfMessage } from '../rooms/rooms.access.ts';
import { checkThread } from '../threads/threads.access.ts';
import { isImageType } from './attachments.sniff.ts';
import { storageFor, storageKeyFor, type StoredFile } from './attachments.storage.ts';
import { urlExpiry } from './attachments.tokens.ts';

export type { Attachment };

/** Path separators, control characters and the characters Windows refuses: none of them belong in a name. */
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME = /[\u0000-\u001f\u007f/\\]/;

const uploadInput = z.object({
  filename: z
    .string()
    .transform((s) => s.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .min(1, 'must not be empty')
        .max(255, 'must be at most 255 characters')
        .refine((s) => !UNSAFE_NAME.test(s), 'must not contain path separators or control characters')
        .refine((s) => s !== '.' && s !== '..', 'must be a file name'),
    ),
  contentType: z.string().trim().toLowerCase(),
  byteSize: z.number().int(),
});

export interface CreateUploadResult {
  attachment: Attachment;
  uploadUrl: string;
  uploadHeaders: Record<string, string>;
  expiresAt: Date;
}

/** How many createUpload calls a user may make per minute (0: no limit). */
const uploadsPerMinute = (ctx: Context) => ctx.app.config.storage.uploadsPerMinute;

/** The origin the URLs of local storage start with: `storage.public_url`, else the request's. */
function originOf(ctx: Context): string {
  const configured = ctx.app.config.storage.publicUrl;
  if (configured) return new URL(configured).origin;
  if (ctx.origin) return ctx.origin;
  const { host, port } = ctx.app.config.server;
  return `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
}

/**
 * createUpload: a PENDING attachment and where to PUT its bytes. For a message (the default purpose) the viewer
 * must be a member of the org (NOT_FOUND otherwise, checked by the rule); the type must be allowed and the size
 * within the org's plan. An avatar (`purpose: AVATAR`, updateProfile) belongs to no org: an image, at most the
 * free plan's size.
 */
export async function createUpload(ctx: Context, orgId: string | null, input: unknown, purpose: 'MESSAGE' | 'AVATAR' = 'MESSAGE'): Promise<CreateUploadResult> {
  const uploaderId = requireUserId(ctx);
  const data = parseInput(uploadInput, input);
  const { storage: cfg } = ctx.app.config;
  if (!cfg.allowedTypes.includes(data.contentType) || (purpose === 'AVATAR' && !isImageType(data.contentType))) {
    const allowed = purpose === 'AVATAR' ? cfg.allowedTypes.filter(isImageType) : cfg.allowedTypes;
    throw badInput(`contentType: "${data.contentType}" is not accepted${purpose === 'AVATAR' ? ' for an avatar' : ''}; allowed: ${allowed.join(', ')}`, 'contentType');
  }
  if (purpose === 'AVATAR' && orgId) throw badInput('orgId: an avatar belongs to no org; leave orgId out', 'orgId');
  if (purpose === 'MESSAGE' && !orgId) throw badInput('orgId: required for a message upload', 'orgId');
  const org = orgId ? await db.org.findUnique({ where: { id: orgId }, select: { plan: true } }) : { plan: 'FREE' };
  if (!org) throw notFound('Org');
  const max = cfg.maxBytes[org.plan.toLowerCase() as keyof typeof cfg.maxBytes];
  if (data.byteSize < 1) throw badInput('byteSize: must be at least 1', 'byteSize');
  if (data.byteSize > max) throw tooLarge(max, org.plan);
  const perMinute = uploadsPerMinute(ctx);
  if (perMinute > 0) {
    const hit = await ctx.app.limiter.hit(`upload:${uploaderId}`, perMinute, 60);
    if (!hit.allowed) throw rateLimited(`At most ${perMinute} uploads a minute; try again in ${hit.retryAfterSec} s`, hit.retryAfterSec);
  }
  const id = randomUUID();
  const attachment = await db.attachment.create({
    data: { id, orgId, uploaderId, filename: data.filename, contentType: data.contentType, byteSize: data.byteSize, storageKey: storageKeyFor(ctx.app.config, id) },
  });
  const expiresAt = urlExpiry(Date.now(), cfg.uploadUrlTtlSec);
  const target = await storageFor(ctx.app.config).uploadTarget(attachment, originOf(ctx), expiresAt);
  return { attachment, uploadUrl: target.url, uploadHeaders: target.headers, expiresAt: new Date(expiresAt) };
}

/**
 * Checks an upload before updateProfile makes it the user's avatar: theirs, an image, attached to no message, and
 * READY (with S3 storage a PENDING one is checked now). BAD_USER_INPUT on avatarId otherwise.
 */
export async function prepareAvatar(app: AppServices, userId: string, attachmentId: string): Promise<void> {
  const refuse = (why: string) => badInput(`avatarId: ${why}`, 'avatarId');
  const a = await db.attachment.findUnique({ where: { id: attachmentId } });
  // Someone else's upload looks like a missing one: ids cannot be probed.
  if (!a || a.uploaderId !== userId) throw refuse('no such upload of yours');
  if (!isImageType(a.contentType)) throw refuse(`"${a.filename}" is not an image`);
  if (a.attachedAt || a.roomMessageId || a.threadMessageId) throw refuse(`"${a.filename}" is attached to a message`);
  if (a.status !== 'READY') await verifyPending(app, a, refuse);
}

/** An avatar's signed URL (User.avatarUrl), with the attachment read once per request for all the users asked about. */
export async function avatarUrl(ctx: Context, avatarId: string | null): Promise<string | null> {
  if (!avatarId) return null;
  const a = await ctx
    .loader<string, Attachment | null>('avatarById', async (ids) => {
      const rows = await db.attachment.findMany({ where: { id: { in: [...ids] } } });
      return ids.map((id) => rows.find((r) => r.id === id) ?? null);
    })
    .load(avatarId);
  return a ? ((await downloadOf(ctx, a))?.url ?? null) : null;
}

function tooLarge(max: number, plan: string) {
  const err = badInput(`byteSize: at most ${max} bytes on the ${plan} plan`, 'byteSize');
  Object.assign(err.extensions, { reason: 'PAYLOAD_TOO_LARGE', limit: max });
  return err;
}

/** A signed download URL and its expiry, the same for every field of one request (url and urlExpiresAt agree). */
export function downloadOf(ctx: Context, a: Attachment): Promise<{ url: string; expiresAt: Date } | null> {
  if (a.status !== 'READY') return Promise.resolve(null);
  return ctx
    .loader<Attachment, { url: string; expiresAt: Date }>('attachmentDownload', (rows) => {
      const expiresAt = urlExpiry(Date.now(), ctx.app.config.storage.downloadUrlTtlSec);
      const storage = storageFor(ctx.app.config);
      return Promise.all(rows.map(async (r) => ({ url: await storage.downloadUrl(r, originOf(ctx), expiresAt), expiresAt: new Date(expiresAt) })));
    })
    .load(a);
}

export const isImage = (a: Pick<Attachment, 'contentType'>) => isImageType(a.contentType);

/** A message's attachments in order, one query per request for all the messages asked about. */
export function attachmentsOf(ctx: Context, target: 'roomMessageId' | 'threadMessageId', messageId: string): Promise<Attachment[]> {
  return ctx
    .loader<string, Attachment[]>(`attachmentsOf:${target}`, async (ids) => {
      const rows = await db.attachment.findMany({
        where: { [target]: { in: [...ids] } } as Prisma.AttachmentWhereInput,
        orderBy: [{ position: 'asc' }, { createdAt: 'asc' }],
      });
      return ids.map((id) => rows.filter((r) => r[target] === id));
    })
    .load(messageId);
}

/**
 * May the viewer see this attachment (node(id), and so its url)? Its uploader while in its org (always, for an upload outside any org), and whoever
 * can read the message it is attached to (a member of the room; a reader of the thread).
 */
export async function canSeeAttachment(ctx: Context, a: Pick<Attachment, 'orgId' | 'uploaderId' | 'roomMessageId' | 'threadMessageId'>): Promise<boolean> {
  if (ctx.viewer.kind === 'user' && a.uploaderId === ctx.viewer.userId && (!a.orgId || (await viewerRole(ctx, a.orgId)))) return true;
  if (a.roomMessageId) {
    const roomId = await roomOfMessage(ctx, a.roomMessageId);
    return !!roomId && (await checkRoom(ctx, roomId)) === true;
  }
  if (a.threadMessageId) {
    const m = await db.message.findUnique({ where: { id: a.threadMessageId }, select: { threadId: true } });
    return !!m?.threadId && (await checkThread(ctx, m.threadId, 'READ')) === true;
  }
  return false;
}

const idList = (max: number) =>
  z
    .array(z.string())
    .max(max, `at most ${max} attachments per message`)
    .refine((ids) => new Set(ids).size === ids.length, 'must not name an upload twice');

/**
 * Checks uploads before a send attaches them: each must be the sender's, of the message's org, not attached
 * yet, and READY (an S3 upload still PENDING is checked now: size, sniffed type, image size). BAD_USER_INPUT
 * otherwise, before anything is stored. The attaching itself happens in the send's transaction
 * (claimAttachments), where a concurrent send that took one first makes this one fail.
 * `ids` are raw ids (decoded); returns them in order.
 */
export async function prepareAttachments(app: AppServices, senderId: string, orgId: string, ids: readonly string[]): Promise<string[]> {
  const list = parseInput(z.object({ attachmentIds: idList(app.config.storage.maxPerMessage) }), { attachmentIds: [...ids] }).attachmentIds;
  if (!list.length) return [];
  const rows = await db.attachment.findMany({ where: { id: { in: list } } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const refuse = (why: string) => badInput(`attachmentIds: ${why}`, 'attachmentIds');
  for (const id of list) {
    const a = byId.get(id);
    // Someone else's upload looks like a missing one: ids cannot be probed.
    if (!a || a.uploaderId !== senderId || a.orgId !== orgId) throw refuse('no such upload of yours in this org');
    if (a.attachedAt || a.roomMessageId || a.threadMessageId) throw refuse(`"${a.filename}" is already attached to a message`);
    if (a.status !== 'READY') await verifyPending(app, a, refuse);
  }
  return list;
}

/** A PENDING upload at attach time: on local disk its bytes never came; on S3 they are checked now. */
async function verifyPending(app: AppServices, a: Attachment, refuse: (why: string) => Error): Promise<void> {
  const storage = storageFor(app.config);
  if (storage.kind === 'local') throw refuse(`"${a.filename}" has not been uploaded yet`);
  const result = await storage.verifyUpload(a);
  if (result.status === 'MISSING') {
    // Another send may have checked it a moment ago (its upload key is gone once copied).
    const now = await db.attachment.findUnique({ where: { id: a.id }, select: { status: true } });
    if (now?.status === 'READY') return;
    throw refuse(`"${a.filename}" has not been uploaded yet`);
  }
  if (result.status === 'REFUSED') {
    await removeAttachments(app, { id: a.id });
    throw refuse(`"${a.filename}" was refused: ${result.reason}; the upload is deleted`);
  }
  await db.attachment.updateMany({ where: { id: a.id, status: 'PENDING' }, data: { status: 'READY', width: result.width, height: result.height } });
}

/** Deletes attachments (rows, then their bytes). Call it after the transaction that made them go away has committed. */
export async function removeAttachments(app: AppServices, where: Prisma.AttachmentWhereInput): Promise<number> {
  const rows = await db.attachment.findMany({ where, select: { id: true, storageKey: true, filename: true, contentType: true, byteSize: true } });
  const storage = storageFor(app.config);
  let removed = 0;
  for (const r of rows) {
    // The condition again: a row that changed meanwhile (an expiring upload attached at this moment) stays.
    const { count } = await db.attachment.deleteMany({ where: { AND: [where, { id: r.id }] } });
    if (!count) continue;
    removed++;
    await storage.remove(r as StoredFile).catch((err) => app.log.warn({ err, attachmentId: r.id }, 'deleting attachment bytes failed'));
  }
  return removed;
}

/** The columns `removeStoredFiles` needs: select them in the transaction that deletes the rows. */
export const STORED_FILE_COLUMNS = { id: true, storageKey: true, filename: true, contentType: true, byteSize: true } as const;

/**
 * Deletes the stored bytes of attachments whose rows are already gone (their org was deleted, cascading to them).
 * Call it after that delete committed; a failure is logged and the rest go on.
 */
export async function removeStoredFiles(app: AppServices, files: StoredFile[]): Promise<void> {
  const storage = storageFor(app.config);
  for (const f of files) await storage.remove(f).catch((err) => app.log.warn({ err, attachmentId: f.id }, 'deleting attachment bytes failed'));
}

/** The attachments of a deleted room message go with it (after the delete has committed). */
export const removeRoomMessageAttachments = (app: AppServices, messageId: string) => removeAttachments(app, { roomMessageId: messageId });

/**
 * One pass of the cleanup: uploads never attached (nor anyone's avatar) and older than storage.pending_ttl_sec, and attachments
 * whose message is gone (its row deleted with its room or thread: both links are null). Returns how many went.
 */
export async function sweepAttachments(app: AppServices, now = Date.now()): Promise<number> {
  const before = new Date(now - app.config.storage.pendingTtlSec * 1000);
  return removeAttachments(app, {
    // Someone's avatar is in use, however old and attached to nothing.
    avatarOf: { none: {} },
    OR: [
      { attachedAt: null, createdAt: { lt: before } },
      { attachedAt: { not: null }, roomMessageId: null, threadMessageId: null },
    ],
  });
}

/** The bytes of an attachment, for a model's image parts. */
export const readAttachment = (app: AppServices, a: Attachment) => storageFor(app.config).read(a);
