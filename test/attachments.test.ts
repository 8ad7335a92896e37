import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepAttachments } from '../src/modules/attachments/attachments.service.ts';
import { createUpload, png, put, until, uploadFile } from './helpers/attachments.ts';
import { createThread } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateRoom = `mutation AttCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`;
const Send = `
  mutation AttSend($input: SendMessageInput!) {
    sendMessage(input: $input) { id seq attachments { id filename contentType byteSize status isImage width height url urlExpiresAt uploader { id } } }
  }
`;
const RoomMessages = `
  query AttRoomMessages($id: ID!) {
    room(id: $id) { messages(last: 20) { edges { node { id deleted attachments { id filename url } } } } }
  }
`;
const NodeAttachment = `
  query AttNode($id: ID!) { node(id: $id) { id ... on Attachment { filename status url width height } } }
`;
const Delete = `mutation AttDelete($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }`;
const SendThread = `
  mutation AttSendThread($input: SendThreadMessageInput!) {
    sendThreadMessage(input: $input) {
      userMessage { id content attachments { id filename width height isImage } }
      assistantMessage { status content error }
    }
  }
`;
const DeleteThread = `mutation AttDeleteThread($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`;
const RoomEvents = `
  subscription AttRoomEvents($roomId: ID!, $afterSeq: Int) {
    roomEvents(roomId: $roomId, afterSeq: $afterSeq) { __typename ... on RoomMessageAdded { message { id attachments { id filename url } } } }
  }
`;

const TEXT = Buffer.from('hello, attachments ✓\n');
const CAT = png(64, 48);

let server: TestServer;
let fake: FakeOpenAI;
let dir: string;
let owner: TestUser;
let member: TestUser;
let bystander: TestUser; // in the org, not in the room
let outsider: TestUser; // another org
let orgId: string;
let otherOrgId: string;
let roomId: string;

const auth = (u: TestUser) => ({ token: u.token });
const storedFiles = async () => (await readdir(dir).catch(() => [] as string[])).filter((f) => !f.endsWith('.part'));

beforeAll(async () => {
  fake = await startFakeOpenAI({ reply: ['I', ' see', ' it'] });
  dir = await mkdtemp(join(tmpdir(), 'confab-att-'));
  server = await startServer({
    overrides: {
      // Uploads are far bigger than a request body may be: their route limits itself.
      server: { maxBodyBytes: 8192 },
      storage: { dir, maxBytes: { free: 100_000 } },
      models: { default: 'echo', allowed: ['echo', 'gpt-4o-test', 'gpt-text'] },
      providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-test-key' } },
    },
  });
  const org = await orgWithMembers(server, 2);
  ({ owner } = org);
  [member, bystander] = org.members;
  orgId = org.org.id;
  outsider = await registerUser(server);
  otherOrgId = (await createOrg(server, outsider)).id;
  roomId = (await server.ok<any, any>(CreateRoom, { input: { orgId, type: 'GROUP', name: 'files', memberIds: [member.id] } }, auth(owner))).createRoom.id;
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

describe('upload and download (local storage)', () => {
  it('creates an upload, takes the PUT, attaches it to a message, and serves the same bytes back', async () => {
    const { createUpload: created } = await server.ok<any, any>(
      `mutation { createUpload(input: { orgId: "${orgId}", filename: "notes.txt", contentType: "text/plain", byteSize: ${TEXT.length} }) {
        uploadUrl expiresAt uploadHeaders { name value } attachment { id status url isImage byteSize uploader { id } } } }`,
      {},
      auth(member),
    );
    expect(created.attachment).toMatchObject({ status: 'PENDING', url: null, isImage: false, byteSize: TEXT.length, uploader: { id: member.id } });
    expect(created.uploadUrl.startsWith(`${server.origin}/attachments/`)).toBe(true);
    expect(created.uploadHeaders).toEqual([{ name: 'content-type', value: 'text/plain' }]);
    const res = await fetch(created.uploadUrl, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: TEXT });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'READY', byteSize: TEXT.length });

    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'see attached', attachmentIds: [created.attachment.id] } }, auth(member));
    expect(sendMessage.attachments).toHaveLength(1);
    const [a] = sendMessage.attachments;
    expect(a).toMatchObject({ id: created.attachment.id, filename: 'notes.txt', status: 'READY', isImage: false, width: null, height: null });
    expect(Date.parse(a.urlExpiresAt)).toBeGreaterThan(Date.now());

    // The owner, another member of the room, reads it through the room and downloads it.
    const { room } = await server.ok<any, any>(RoomMessages, { id: roomId }, auth(owner));
    const seen = room.messages.edges.find((e: any) => e.node.id === sendMessage.id).node.attachments[0];
    const got = await fetch(seen.url);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(TEXT)).toBe(true);
    expect(got.headers.get('content-type')).toBe('text/plain');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-disposition')).toBe(`attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`);
  });

  it('records an image’s width and height, serves it inline, and carries it on the live event', async () => {
    const { room } = await server.ok<any, any>(`query ($id: ID!) { room(id: $id) { lastSeq } }`, { id: roomId }, auth(owner));
    // From the current seq: the message sent below arrives replayed or live, whichever comes first.
    const live = subscribe<any, any>(server.ws(auth(owner)), RoomEvents, { roomId, afterSeq: room.lastSeq });
    const id = await uploadFile(server, member.token, orgId, 'Kätzchen "cat".png', 'image/png', CAT);
    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'a cat', attachmentIds: [id] } }, auth(member));
    expect(sendMessage.attachments[0]).toMatchObject({ isImage: true, width: 64, height: 48, contentType: 'image/png' });
    const res = await fetch(sendMessage.attachments[0].url);
    expect(res.headers.get('content-disposition')).toBe(`inline; filename="K_tzchen _cat_.png"; filename*=UTF-8''K%C3%A4tzchen%20%22cat%22.png`);
    expect(Buffer.from(await res.arrayBuffer()).equals(CAT)).toBe(true);
    const event = await live.next();
    expect(event.data.roomEvents.message.attachments.map((a: any) => a.id)).toEqual([id]);
    live.close();
  });

  it('takes uploads bigger than server.max_body_bytes, streamed, and cuts off more bytes than declared', async () => {
    const big = Buffer.alloc(50_000, 'a');
    expect(await uploadFile(server, member.token, orgId, 'big.txt', 'text/plain', big)).toBeTruthy();

    // Declared in Content-Length: refused before reading.
    const declared = await createUpload(server, member.token, orgId, { filename: 'more.txt', contentType: 'text/plain', byteSize: 10 });
    const res = await put(declared, Buffer.alloc(11, 'a'));
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' });

    // Streamed without a length: cut off at byteSize + 1 bytes.
    const chunked = await createUpload(server, member.token, orgId, { filename: 'more.txt', contentType: 'text/plain', byteSize: 1000 });
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(Buffer.alloc(600, 'b'));
        c.close();
      },
    });
    const streamed = await fetch(chunked.uploadUrl, { method: 'PUT', headers: chunked.headers, body, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    // The refused upload is gone: its URL answers 404, and nothing is left on disk for it.
    expect((await put(chunked, Buffer.alloc(1000, 'b'))).status).toBe(404);
    expect((await storedFiles()).some((f) => f.startsWith(chunked.id))).toBe(false);
  });

  it('refuses bytes that are not of the declared type, and fewer bytes than declared', async () => {
    const fakePng = await createUpload(server, member.token, orgId, { filename: 'x.png', contentType: 'image/png', byteSize: TEXT.length });
    const res = await put(fakePng, TEXT);
    expect(res.status).toBe(415);
    expect((await res.json()).errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'TYPE_MISMATCH' } });

    const binaryText = await createUpload(server, member.token, orgId, { filename: 'x.txt', contentType: 'text/plain', byteSize: CAT.length });
    expect((await put(binaryText, CAT)).status).toBe(415);
    const nul = await createUpload(server, member.token, orgId, { filename: 'x.txt', contentType: 'text/plain', byteSize: 3 });
    expect((await put(nul, Buffer.from([0x61, 0, 0x62]))).status).toBe(415);

    const short = await createUpload(server, member.token, orgId, { filename: 'short.txt', contentType: 'text/plain', byteSize: 100 });
    const shortRes = await fetch(short.uploadUrl, { method: 'PUT', headers: short.headers, body: TEXT });
    expect(shortRes.status).toBe(400);
    // None of them can be attached.
    const code = await server.errorCode(Send, { input: { roomId, content: 'x', attachmentIds: [fakePng.id] } }, auth(member));
    expect(code).toBe('BAD_USER_INPUT');
  });

  it('uses an upload URL once only, and refuses tampered tokens', async () => {
    const upload = await createUpload(server, member.token, orgId, { filename: 'once.txt', contentType: 'text/plain', byteSize: TEXT.length });
    expect((await put(upload, TEXT)).status).toBe(200);
    const again = await put(upload, TEXT);
    expect(again.status).toBe(409);
    expect((await again.json()).errors[0].extensions.reason).toBe('ALREADY_UPLOADED');

    const other = await createUpload(server, member.token, orgId, { filename: 'other.txt', contentType: 'text/plain', byteSize: TEXT.length });
    // Another attachment's token on this one's path; a token with a changed signature.
    const token = new URL(upload.uploadUrl).searchParams.get('token')!;
    const swapped = `${server.origin}/attachments/${new URL(other.uploadUrl).pathname.split('/')[2]}?token=${token}`;
    expect((await put({ uploadUrl: swapped, headers: other.headers }, TEXT)).status).toBe(403);
    const forged = other.uploadUrl.slice(0, -2) + (other.uploadUrl.endsWith('AA') ? 'BB' : 'AA');
    const forgedRes = await put({ uploadUrl: forged, headers: other.headers }, TEXT);
    expect(forgedRes.status).toBe(403);
    expect((await forgedRes.json()).errors[0].extensions.reason).toBe('URL_INVALID');
    // A download token does not upload.
    const id = await uploadFile(server, member.token, orgId, 'dl.txt', 'text/plain', TEXT);
    const { node } = await server.ok<any, any>(NodeAttachment, { id }, auth(member));
    const downloadToken = new URL(node.url).searchParams.get('token');
    expect((await put({ uploadUrl: `${server.origin}/attachments/${new URL(other.uploadUrl).pathname.split('/')[2]}?token=${downloadToken}`, headers: other.headers }, TEXT)).status).toBe(403);
  });
});

describe('createUpload refusals', () => {
  const input = (over: Record<string, unknown> = {}) => ({ input: { orgId, filename: 'a.txt', contentType: 'text/plain', byteSize: 10, ...over } });

  it('refuses a size over the plan, a type not allowed, and bad file names, storing nothing', async () => {
    const res = await server.gql<any, any>(CreateUploadDoc, input({ byteSize: 100_001 }), auth(member));
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE', limit: 100_000 });
    expect(await server.errorCode(CreateUploadDoc, input({ byteSize: 0 }), auth(member))).toBe('BAD_USER_INPUT');
    const type = await server.gql<any, any>(CreateUploadDoc, input({ contentType: 'application/x-msdownload' }), auth(member));
    expect(type.errors?.[0].message).toContain('image/png');
    for (const filename of ['', '../etc/passwd', 'a\\b.txt', 'tab\there', 'x'.repeat(256)]) {
      expect(await server.errorCode(CreateUploadDoc, input({ filename }), auth(member))).toBe('BAD_USER_INPUT');
    }
  });

  it('is NOT_FOUND in an org you are not a member of, and for anonymous callers UNAUTHENTICATED', async () => {
    expect(await server.errorCode(CreateUploadDoc, input({ orgId: otherOrgId }), auth(member))).toBe('NOT_FOUND');
    expect(await server.errorCode(CreateUploadDoc, input(), auth(outsider))).toBe('NOT_FOUND');
    expect(await server.errorCode(CreateUploadDoc, input(), {})).toBe('UNAUTHENTICATED');
  });
});

const CreateUploadDoc = `mutation AttCreateUploadBare($input: CreateUploadInput!) { createUpload(input: $input) { attachment { id } } }`;

describe('who may attach and read', () => {
  it('attaches only your own READY uploads of the room’s org; reading is for the uploader and the room', async () => {
    const mine = await uploadFile(server, member.token, orgId, 'mine.txt', 'text/plain', TEXT);
    const foreign = await uploadFile(server, outsider.token, otherOrgId, 'foreign.txt', 'text/plain', TEXT);
    const pending = (await createUpload(server, member.token, orgId, { filename: 'p.txt', contentType: 'text/plain', byteSize: 5 })).id;
    const before = (await server.ok<any, any>(`query ($id: ID!) { room(id: $id) { lastSeq } }`, { id: roomId }, auth(owner))).room.lastSeq;

    // The owner cannot attach the member's upload; nobody attaches another org's upload or an unfinished one.
    for (const [user, ids] of [[owner, [mine]], [member, [foreign]], [member, [pending]], [member, [mine, mine]], [member, Array(11).fill(mine)]] as const) {
      expect(await server.errorCode(Send, { input: { roomId, content: 'x', attachmentIds: ids } }, auth(user))).toBe('BAD_USER_INPUT');
    }
    expect((await server.ok<any, any>(`query ($id: ID!) { room(id: $id) { lastSeq } }`, { id: roomId }, auth(owner))).room.lastSeq).toBe(before);

    // Before it is attached: only its uploader sees it.
    expect((await server.ok<any, any>(NodeAttachment, { id: mine }, auth(member))).node.filename).toBe('mine.txt');
    for (const u of [owner, bystander, outsider]) expect(await server.errorCode(NodeAttachment, { id: mine }, auth(u))).toBe('NOT_FOUND');

    await server.ok<any, any>(Send, { input: { roomId, content: 'now', attachmentIds: [mine] } }, auth(member));
    // Attached: the room's members see it; the org member outside the room and the other org do not.
    expect((await server.ok<any, any>(NodeAttachment, { id: mine }, auth(owner))).node.url).toMatch(/^http/);
    for (const u of [bystander, outsider]) {
      const res = await server.gql<any, any>(NodeAttachment, { id: mine }, auth(u));
      expect(res.data?.node).toBeNull();
      expect(res.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    // Attached once, never again.
    expect(await server.errorCode(Send, { input: { roomId, content: 'again', attachmentIds: [mine] } }, auth(member))).toBe('BAD_USER_INPUT');
  });

  it('lets only one of two concurrent sends attach the same upload', async () => {
    const id = await uploadFile(server, member.token, orgId, 'race.txt', 'text/plain', TEXT);
    const results = await Promise.all(
      [1, 2, 3].map((i) => server.gql<any, any>(Send, { input: { roomId, content: `race ${i}`, attachmentIds: [id] } }, auth(member))),
    );
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(ok[0].data.sendMessage.attachments.map((a: any) => a.id)).toEqual([id]);
    // The failed sends stored nothing: the room holds one "race" message.
    const { room } = await server.ok<any, any>(`query ($id: ID!) { room(id: $id) { messages(last: 10) { edges { node { content } } } } }`, { id: roomId }, auth(owner));
    expect(room.messages.edges.filter((e: any) => e.node.content.startsWith('race'))).toHaveLength(1);
  });

  it('keeps several attachments in the given order', async () => {
    const a = await uploadFile(server, member.token, orgId, 'a.txt', 'text/plain', TEXT);
    const b = await uploadFile(server, member.token, orgId, 'b.png', 'image/png', CAT);
    const c = await uploadFile(server, member.token, orgId, 'c.txt', 'text/plain', TEXT);
    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'three', attachmentIds: [c, a, b] } }, auth(member));
    expect(sendMessage.attachments.map((x: any) => x.filename)).toEqual(['c.txt', 'a.txt', 'b.png']);
  });
});

describe('lifecycle', () => {
  it('deleting a message deletes its attachments, rows and bytes', async () => {
    const id = await uploadFile(server, member.token, orgId, 'gone.txt', 'text/plain', TEXT);
    const { sendMessage } = await server.ok<any, any>(Send, { input: { roomId, content: 'to delete', attachmentIds: [id] } }, auth(member));
    const url = sendMessage.attachments[0].url;
    const storageKey = new URL(url).pathname.split('/')[2];
    expect(await storedFiles()).toContain(storageKey);
    await server.ok<any, any>(Delete, { input: { messageId: sendMessage.id } }, auth(member));
    expect(await storedFiles()).not.toContain(storageKey);
    expect((await fetch(url)).status).toBe(404);
    expect(await server.errorCode(NodeAttachment, { id }, auth(member))).toBe('NOT_FOUND');
  });

  it('the sweep deletes attachments whose message is gone (a deleted thread)', async () => {
    const thread = await createThread(server, member.token, orgId, 'to go');
    const id = await uploadFile(server, member.token, orgId, 'orphan.txt', 'text/plain', TEXT);
    await server.ok<any, any>(SendThread, { input: { threadId: thread.id, content: 'here', attachmentIds: [id] } }, auth(member));
    await server.ok<any, any>(DeleteThread, { input: { threadId: thread.id } }, auth(member));
    const removed = await sweepAttachments(server.app.services);
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await server.errorCode(NodeAttachment, { id }, auth(member))).toBe('NOT_FOUND');
  });
});

describe('threads and models', () => {
  it('the offline provider shows the images it received', async () => {
    const thread = await createThread(server, member.token, orgId, 'vision');
    const id = await uploadFile(server, member.token, orgId, 'cat.png', 'image/png', CAT);
    const { sendThreadMessage } = await server.ok<any, any>(SendThread, { input: { threadId: thread.id, content: 'What is this?', attachmentIds: [id] } }, auth(member));
    expect(sendThreadMessage.userMessage.attachments).toEqual([{ id, filename: 'cat.png', width: 64, height: 48, isImage: true }]);
    expect(sendThreadMessage.assistantMessage.content).toContain('received 1 image: cat.png (64×48)');
  });

  it('a vision model gets the image as an image part; another model a note', async () => {
    const thread = await createThread(server, member.token, orgId, 'openai');
    const id = await uploadFile(server, member.token, orgId, 'cat.png', 'image/png', CAT);
    const doc = await uploadFile(server, member.token, orgId, 'notes.txt', 'text/plain', TEXT);
    fake.requests.length = 0;
    const { sendThreadMessage } = await server.ok<any, any>(
      SendThread,
      { input: { threadId: thread.id, content: 'Describe it', model: 'gpt-4o-test', attachmentIds: [id, doc] } },
      auth(member),
    );
    expect(sendThreadMessage.assistantMessage).toMatchObject({ status: 'COMPLETE', content: 'I see it' });
    const user = fake.requests.at(-1)!.body.messages.at(-1);
    expect(user.role).toBe('user');
    expect(user.content[0]).toEqual({ type: 'text', text: `Describe it\n[attachment: notes.txt (text/plain, ${TEXT.length} bytes)]` });
    expect(user.content[1]).toEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${CAT.toString('base64')}` } });

    const other = await uploadFile(server, member.token, orgId, 'dog.png', 'image/png', CAT);
    await server.ok<any, any>(SendThread, { input: { threadId: thread.id, content: 'And this?', model: 'gpt-text', attachmentIds: [other] } }, auth(member));
    const plain = fake.requests.at(-1)!.body.messages;
    expect(plain.at(-1)).toEqual({ role: 'user', content: 'And this?\n[image: dog.png]' });
    // The earlier image stays in the history as a note for a model that cannot see it.
    expect(JSON.stringify(plain)).not.toContain('image_url');
  });

  it('refuses another user’s upload on a thread message', async () => {
    const thread = await createThread(server, member.token, orgId, 'theirs');
    const id = await uploadFile(server, owner.token, orgId, 'owner.png', 'image/png', CAT);
    expect(await server.errorCode(SendThread, { input: { threadId: thread.id, content: 'x', attachmentIds: [id] } }, auth(member))).toBe('BAD_USER_INPUT');
  });
});

describe('expiry', () => {
  let quick: TestServer;
  let quickDir: string;
  let user: TestUser;
  let qOrg: string;
  let qRoom: string;
  beforeAll(async () => {
    quickDir = await mkdtemp(join(tmpdir(), 'confab-att-q-'));
    quick = await startServer({ overrides: { storage: { dir: quickDir, uploadUrlTtlSec: 1, downloadUrlTtlSec: 1, pendingTtlSec: 1 } } });
    const o = await orgWithMembers(quick, 0);
    user = o.owner;
    qOrg = o.org.id;
    qRoom = (await quick.ok<any, any>(CreateRoom, { input: { orgId: qOrg, type: 'GROUP', name: 'q' } }, { token: user.token })).createRoom.id;
  });
  afterAll(() => quick.stop());

  it('refuses an expired upload URL with a clear 403', async () => {
    const upload = await createUpload(quick, user.token, qOrg, { filename: 'late.txt', contentType: 'text/plain', byteSize: TEXT.length });
    await until(upload.expiresAt);
    const res = await put(upload, TEXT);
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body.errors[0].extensions.reason).toBe('URL_EXPIRED');
    expect(body.errors[0].message).toContain('expired');
  });

  it('refuses an expired download URL; asking again gives a fresh one', async () => {
    const id = await uploadFile(quick, user.token, qOrg, 'dl.txt', 'text/plain', TEXT);
    const { sendMessage } = await quick.ok<any, any>(Send, { input: { roomId: qRoom, content: 'x', attachmentIds: [id] } }, { token: user.token });
    const [a] = sendMessage.attachments;
    await until(a.urlExpiresAt);
    const res = await fetch(a.url);
    expect(res.status).toBe(403);
    expect((await res.json()).errors[0].extensions.reason).toBe('URL_EXPIRED');
    const { node } = await quick.ok<any, any>(NodeAttachment, { id }, { token: user.token });
    expect((await fetch(node.url)).status).toBe(200);
  });

  it('the sweep deletes uploads never attached once pending_ttl_sec has passed, and only those', async () => {
    const kept = await uploadFile(quick, user.token, qOrg, 'kept.txt', 'text/plain', TEXT);
    await quick.ok<any, any>(Send, { input: { roomId: qRoom, content: 'keep', attachmentIds: [kept] } }, { token: user.token });
    const stale = await uploadFile(quick, user.token, qOrg, 'stale.txt', 'text/plain', TEXT);
    const { node } = await quick.ok<any, any>(`query ($id: ID!) { node(id: $id) { ... on Attachment { createdAt } } }`, { id: stale }, { token: user.token });
    await until(Date.parse(node.createdAt) + 1000);
    expect(await sweepAttachments(quick.app.services)).toBeGreaterThanOrEqual(1);
    expect(await quick.errorCode(NodeAttachment, { id: stale }, { token: user.token })).toBe('NOT_FOUND');
    expect((await quick.ok<any, any>(NodeAttachment, { id: kept }, { token: user.token })).node.filename).toBe('kept.txt');
    // Its bytes went too (a file is named after the attachment's raw id).
    const rawId = Buffer.from(stale, 'base64').toString().split(':')[1];
    expect(await readdir(quickDir)).not.toContain(rawId);
  });
});
