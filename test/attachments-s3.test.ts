import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { runRetentionPass } from '../src/modules/retention/retention.service.ts';
import { createUpload, png, put, until, uploadFile } from './helpers/attachments.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = `mutation AttS3Room($input: CreateRoomInput!) { createRoom(input: $input) { id } }`;
const Send = `
  mutation AttS3Send($input: SendMessageInput!) {
    sendMessage(input: $input) { id attachments { id status width height url urlExpiresAt } }
  }
`;
const NodeAttachment = `query AttS3Node($id: ID!) { node(id: $id) { id ... on Attachment { status url } } }`;
const Delete = `mutation AttS3Delete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }`;

const BUCKET = 'confab-test';
const CAT = png(32, 16);
const TEXT = Buffer.from('plain words\n');

let s3: S3rver;
let dir: string;
let endpoint: string;
let server: TestServer;
let user: TestUser;
let orgId: string;
let roomId: string;
let client: S3Client;

const s3Config = (extra: Record<string, unknown> = {}) => ({
  storage: { s3: { bucket: BUCKET, endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', prefix: 'cf/' }, ...extra },
});
const exists = (key: string) =>
  client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
    () => true,
    () => false,
  );
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confab-s3-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: BUCKET }] });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  server = await startServer({ overrides: s3Config() });
  const o = await orgWithMembers(server, 0);
  user = o.owner;
  orgId = o.org.id;
  roomId = (await server.ok<any, any>(CreateRoom, { input: { orgId, type: 'GROUP', name: 's3' } }, { token: user.token })).createRoom.id;
});
afterAll(async () => {
  await server?.stop();
  client?.destroy();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('S3 storage', () => {
  it("names the store's origin in the Content-Security-Policy, so /app may PUT uploads there and show its images", async () => {
    const csp = (await fetch(`${server.origin}/health`)).headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`img-src 'self' data: blob: ${endpoint}`);
    expect(csp).toContain(`connect-src 'self' ${endpoint}`);
  });

  it('presigns a PUT to the store; attaching checks the upload and moves it to its final key', async () => {
    const upload = await createUpload(server, user.token, orgId, { filename: 'cat.png', contentType: 'image/png', byteSize: CAT.length });
    expect(upload.uploadUrl.startsWith(`${endpoint}/${BUCKET}/cf/uploads/`)).toBe(true);
    expect((await put(upload, CAT)).status).toBe(200);
    // Not checked yet: PENDING, no URL.
    expect((await server.ok<any, any>(NodeAttachment, { id: upload.id }, { token: user.token })).node).toMatchObject({ status: 'PENDING', url: null });

    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'cat', attachmentIds: [upload.id] } }, { token: user.token });
    const [a] = sendMessage.attachments;
    expect(a).toMatchObject({ status: 'READY', width: 32, height: 16 });
    const id = rawId(upload.id);
    expect(await exists(`cf/files/${id}`)).toBe(true);
    expect(await exists(`cf/uploads/${id}`)).toBe(false);

    const res = await fetch(a.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(CAT)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');

    // Deleting the message deletes the object.
    await server.ok<any, any>(Delete, { input: { messageId: sendMessage.id } }, { token: user.token });
    expect(await exists(`cf/files/${id}`)).toBe(false);
  });

  it('refuses an upload whose bytes are not the declared type or size, and deletes it', async () => {
    const wrongType = await createUpload(server, user.token, orgId, { filename: 'x.png', contentType: 'image/png', byteSize: TEXT.length });
    expect((await put(wrongType, TEXT)).status).toBe(200); // the store takes anything; Confab checks on attach
    const res = await server.gql<any, any>(Send, { input: { roomId, content: 'x', attachmentIds: [wrongType.id] } }, { token: user.token });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toContain('not image/png');
    expect(await exists(`cf/uploads/${rawId(wrongType.id)}`)).toBe(false);
    expect(await server.errorCode(NodeAttachment, { id: wrongType.id }, { token: user.token })).toBe('NOT_FOUND');

    // Not uploaded at all yet.
    const missing = await createUpload(server, user.token, orgId, { filename: 'y.txt', contentType: 'text/plain', byteSize: TEXT.length });
    const notYet = await server.gql<any, any>(Send, { input: { roomId, content: 'y', attachmentIds: [missing.id] } }, { token: user.token });
    expect(notYet.errors?.[0].message).toContain('not been uploaded');
  });

  it('attaches text checked whole', async () => {
    const id = await uploadFile(server, user.token, orgId, 'a.txt', 'text/plain', TEXT);
    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'text', attachmentIds: [id] } }, { token: user.token });
    expect(sendMessage.attachments[0].status).toBe('READY');
    expect(Buffer.from(await (await fetch(sendMessage.attachments[0].url)).arrayBuffer()).equals(TEXT)).toBe(true);
  });

  describe('objects of what is deleted in bulk', () => {
    const DeleteOrg = `mutation AttS3DeleteOrg($input: DeleteOrgInput!) { deleteOrg(input: $input) { deletedId } }`;

    it('deleteOrg deletes the stored objects of its attachments', async () => {
      const o = await orgWithMembers(server, 0);
      const room = (await server.ok<any, any>(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'doomed' } }, { token: o.owner.token })).createRoom.id;
      const sent = await uploadFile(server, o.owner.token, o.org.id, 'sent.txt', 'text/plain', TEXT);
      await server.ok<any, any>(Send, { input: { roomId: room, content: 'file', attachmentIds: [sent] } }, { token: o.owner.token });
      expect(await exists(`cf/files/${rawId(sent)}`)).toBe(true);
      await server.ok<any, any>(DeleteOrg, { input: { orgId: o.org.id, confirmSlug: o.org.slug } }, { token: o.owner.token });
      expect(await exists(`cf/files/${rawId(sent)}`)).toBe(false);
    });

    it('retention deletes the stored objects of pruned messages', async () => {
      const o = await orgWithMembers(server, 0);
      await server.ok<any, any>(`mutation AttS3Retention($input: UpdateOrgInput!) { updateOrg(input: $input) { id } }`, { input: { orgId: o.org.id, retentionDays: 1 } }, { token: o.owner.token });
      const room = (await server.ok<any, any>(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'old' } }, { token: o.owner.token })).createRoom.id;
      const old = await uploadFile(server, o.owner.token, o.org.id, 'old.txt', 'text/plain', TEXT);
      await server.ok<any, any>(Send, { input: { roomId: room, content: 'old file', attachmentIds: [old] } }, { token: o.owner.token });
      const past = new Date(Date.now() - 3 * 86_400_000);
      await db.room.update({ where: { id: rawId(room) }, data: { createdAt: past } });
      await db.roomMessage.updateMany({ where: { roomId: rawId(room) }, data: { createdAt: past } });
      expect(await exists(`cf/files/${rawId(old)}`)).toBe(true);
      expect((await runRetentionPass(server.app.services)).attachments).toBe(1);
      expect(await exists(`cf/files/${rawId(old)}`)).toBe(false);
    });
  });

  // Before the expiry tests: their server, on a database of its own, closes the process's database client when it stops.
  describe('avatars on S3 (updateProfile)', () => {
    const AvatarUpload = `mutation AttS3Avatar($input: CreateUploadInput!) { createUpload(input: $input) { uploadUrl uploadHeaders { name value } attachment { id } } }`;
    const Profile = `mutation AttS3Profile($input: UpdateProfileInput!) { updateProfile(input: $input) { user { avatarUrl } } }`;
    const avatar = async (bytes: Buffer, contentType = 'image/png') => {
      const { createUpload } = await server.ok<any, any>(AvatarUpload, { input: { purpose: 'AVATAR', filename: 'me.png', contentType, byteSize: bytes.length } }, { token: user.token });
      const headers = Object.fromEntries((createUpload.uploadHeaders as { name: string; value: string }[]).map((h) => [h.name, h.value]));
      expect((await put({ uploadUrl: createUpload.uploadUrl, headers }, bytes)).status).toBe(200);
      return createUpload.attachment.id as string;
    };

    it('checks the PUT bytes when the upload becomes the avatar, serves it presigned, and deletes the replaced one from the bucket', async () => {
      const first = await avatar(CAT);
      const { updateProfile } = await server.ok<any, any>(Profile, { input: { avatarId: first } }, { token: user.token });
      const res = await fetch(updateProfile.user.avatarUrl);
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(CAT)).toBe(true);
      expect(await exists(`cf/files/${rawId(first)}`)).toBe(true);
      await server.ok<any, any>(Profile, { input: { avatarId: await avatar(png(8, 8)) } }, { token: user.token });
      expect(await exists(`cf/files/${rawId(first)}`)).toBe(false);
    });

    it('refuses as avatar bytes that are not the declared image, and deletes them', async () => {
      const liar = await avatar(Buffer.concat([TEXT, Buffer.alloc(64, 0x41)]));
      const res = await server.gql<any, any>(Profile, { input: { avatarId: liar } }, { token: user.token });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'avatarId' });
      expect(await exists(`cf/uploads/${rawId(liar)}`)).toBe(false);
    });
  });

  describe('expiry', () => {
    let quick: TestServer;
    beforeAll(async () => {
      quick = await startServer({ overrides: s3Config({ uploadUrlTtlSec: 1, downloadUrlTtlSec: 1 }) });
    });
    afterAll(() => quick.stop());

    it('the store refuses an expired presigned download with 403', async () => {
      const o = await orgWithMembers(quick, 0);
      const room = (await quick.ok<any, any>(CreateRoom, { input: { orgId: o.org.id, type: 'GROUP', name: 'q' } }, { token: o.owner.token })).createRoom.id;
      const id = await uploadFile(quick, o.owner.token, o.org.id, 'q.txt', 'text/plain', TEXT);
      const { sendMessage } = await quick.ok<any, any>(Send, { input: { roomId: room, content: 'q', attachmentIds: [id] } }, { token: o.owner.token });
      const [a] = sendMessage.attachments;
      expect((await fetch(a.url)).status).toBe(200);
      await until(a.urlExpiresAt);
      // The presigner counts from its own signing second: wait until that second is over too.
      await until(Date.parse(a.urlExpiresAt) + 1000);
      expect((await fetch(a.url)).status).toBe(403);
    });

    it('the store refuses an expired presigned upload with 403', async () => {
      const o = await orgWithMembers(quick, 0);
      const upload = await createUpload(quick, o.owner.token, o.org.id, { filename: 'late.txt', contentType: 'text/plain', byteSize: TEXT.length });
      await until(Date.parse(upload.expiresAt) + 1000);
      expect((await put(upload, TEXT)).status).toBe(403);
    });
  });
});

