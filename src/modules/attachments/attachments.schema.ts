import { idOf } from '../../auth/rules.ts';
import { builder } from '../../schema/builder.ts';
import * as attachments from './attachments.service.ts';

export const AttachmentStatus = builder.enumType('AttachmentStatus', {
  description: 'Where an upload is: waiting for its bytes, or stored and checked.',
  values: {
    PENDING: { description: 'Created by createUpload; its bytes have not arrived (or, with S3 storage, not been checked yet: that happens when it is attached).' },
    READY: { description: 'Its bytes are stored, exactly byteSize long and of the declared type.' },
  },
});

export const AttachmentRef = builder.prismaNode('Attachment', {
  description:
    'A file uploaded with createUpload and attached to a room or thread message. Its uploader sees it; once attached, whoever can read the message does too.',
  id: { field: 'id', description: 'The global ID of the attachment (what `attachmentIds` take).' },
  fields: (t) => ({
    filename: t.exposeString('filename', { description: 'The file name given to createUpload (without any path).' }),
    contentType: t.exposeString('contentType', { description: 'The content type given to createUpload; the stored bytes were checked to be of it.' }),
    byteSize: t.exposeInt('byteSize', { description: 'The size in bytes, as declared and checked.' }),
    status: t.expose('status', { type: AttachmentStatus, description: 'PENDING until its bytes are stored and checked, then READY.' }),
    width: t.exposeInt('width', { nullable: true, description: 'An image’s width in pixels; null for other files and before READY.' }),
    height: t.exposeInt('height', { nullable: true, description: 'An image’s height in pixels; null for other files and before READY.' }),
    isImage: t.boolean({ description: 'Whether its type is an image (`image/*`): shown inline, and sent to vision models as an image.', resolve: (a) => attachments.isImage(a) }),
    url: t.string({
      nullable: true,
      description:
        'A signed URL to download the file, good until `urlExpiresAt` (storage.download_url_ttl_sec); ask again for a fresh one. Null while PENDING.',
      resolve: async (a, _args, ctx) => (await attachments.downloadOf(ctx, a))?.url ?? null,
    }),
    urlExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When `url` stops working; null while PENDING.',
      resolve: async (a, _args, ctx) => (await attachments.downloadOf(ctx, a))?.expiresAt ?? null,
    }),
    uploader: t.relation('uploader', { description: 'Who uploaded it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When createUpload made it.' }),
  }),
});

const UploadHeader = builder.simpleObject('UploadHeader', {
  description: 'A header the upload PUT must carry.',
  fields: (t) => ({
    name: t.string({ description: 'The header’s name (`content-type`).' }),
    value: t.string({ description: 'Its value.' }),
  }),
});

const CreateUploadPayload = builder.objectRef<attachments.CreateUploadResult>('CreateUploadPayload').implement({
  description: 'The new upload and where to PUT its bytes.',
  fields: (t) => ({
    attachment: t.field({ type: AttachmentRef, description: 'The attachment, PENDING until its bytes arrive.', resolve: (r) => r.attachment }),
    uploadUrl: t.exposeString('uploadUrl', {
      description: 'PUT the bytes here (the whole file as the body, exactly byteSize bytes) before `expiresAt`. Good for one upload only.',
    }),
    uploadHeaders: t.field({
      type: [UploadHeader],
      description: 'Headers the PUT must carry (its `content-type`).',
      resolve: (r) => Object.entries(r.uploadHeaders).map(([name, value]) => ({ name, value })),
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When `uploadUrl` stops working (storage.upload_url_ttl_sec after now).' }),
  }),
});

export const UploadPurpose = builder.enumType('UploadPurpose', {
  description: 'What an upload is for.',
  values: {
    MESSAGE: { description: 'A file for messages of one org (`orgId`): sendMessage or sendThreadMessage attach it.' },
    AVATAR: { description: 'Your profile picture (updateProfile): an image, in no org, at most the free plan’s storage.max_bytes.' },
  },
});

const CreateUploadInput = builder.inputType('CreateUploadInput', {
  description: 'The file you are about to upload.',
  fields: (t) => ({
    orgId: t.id({
      description:
        'The org the file belongs to: only its messages can carry it (NOT_FOUND unless you are a member). Required for MESSAGE uploads, absent for an AVATAR (BAD_USER_INPUT otherwise).',
    }),
    purpose: t.field({ type: UploadPurpose, defaultValue: 'MESSAGE', description: 'What the upload is for (MESSAGE unless given).' }),
    filename: t.string({ required: true, description: 'Its name: 1 to 255 characters, no path separators or control characters (BAD_USER_INPUT otherwise).' }),
    contentType: t.string({ required: true, description: 'Its type, one of storage.allowed_types (BAD_USER_INPUT otherwise); the bytes must really be of it.' }),
    byteSize: t.int({
      required: true,
      description: 'Its exact size in bytes: at least 1, at most the org plan’s storage.max_bytes (BAD_USER_INPUT with reason PAYLOAD_TOO_LARGE beyond).',
    }),
  }),
});

builder.mutationFields((t) => ({
  createUpload: t.field({
    type: CreateUploadPayload,
    description:
      'Starts an upload (a file for messages, or with `purpose: AVATAR` a profile picture): a PENDING attachment and a signed URL to PUT its bytes to (once, before it expires). When they arrive they are checked (size, sniffed type, image size) and it is READY; then `sendMessage` or `sendThreadMessage` can attach it by its id. Never attached (nor made an avatar), it is deleted after storage.pending_ttl_sec. RATE_LIMITED beyond storage.uploads_per_minute.',
    args: { input: t.arg({ type: CreateUploadInput, required: true, description: 'The org (or the avatar purpose) and the file.' }) },
    resolve: (_root, { input }, ctx) =>
      attachments.createUpload(ctx, input.orgId ? idOf(input.orgId, 'Org', 'orgId') : null, input, input.purpose ?? 'MESSAGE'),
  }),
}));

builder.prismaObjectFields('RoomMessage', (t) => ({
  attachments: t.field({
    type: [AttachmentRef],
    description: 'The files attached to it (sendMessage’s attachmentIds), in the order given; empty once deleted (deleting a message deletes its files).',
    resolve: (m, _args, ctx) => attachments.attachmentsOf(ctx, 'roomMessageId', m.id),
  }),
}));

builder.prismaObjectFields('Message', (t) => ({
  attachments: t.field({
    type: [AttachmentRef],
    description: 'The files attached to it (sendThreadMessage’s attachmentIds), in the order given.',
    resolve: (m, _args, ctx) => attachments.attachmentsOf(ctx, 'threadMessageId', m.id),
  }),
}));
