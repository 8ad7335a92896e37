/**
 * Profiles (issue 22, accounts): updateProfile's name and avatar. An avatar is an upload outside any org
 * (createUpload with purpose AVATAR), shown as a signed User.avatarUrl to whoever can see the user, kept by the
 * upload sweeper, and deleted, bytes and all, when replaced.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sweepAttachments } from '../src/modules/attachments/attachments.service.ts';
import { graphql } from './gql/index.ts';
import { png, put, uploadFile, CreateUpload } from './helpers/attachments.ts';
import { createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Update = graphql(`
  mutation ProfileUpdate($input: UpdateProfileInput!) { updateProfile(input: $input) { id user { id name avatarUrl deleted } } }
`);
const UserQuery = graphql(`query ProfileUser($id: ID!) { node(id: $id) { ... on User { id name avatarUrl deleted } } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { storage: { maxBytes: { free: 4096 } } } });
});

/** An avatar upload (createUpload with purpose AVATAR), PUT: its id. */
async function avatar(user: TestUser, bytes: Buffer = png(8, 8), contentType = 'image/png'): Promise<string> {
  const { createUpload } = await server.ok<any, any>(CreateUpload, { input: { purpose: 'AVATAR', filename: 'me.png', contentType, byteSize: bytes.length } }, { token: user.token });
  const headers = Object.fromEntries((createUpload.uploadHeaders as { name: string; value: string }[]).map((h) => [h.name, h.value]));
  expect((await put({ uploadUrl: createUpload.uploadUrl, headers }, bytes)).status).toBe(200);
  return createUpload.attachment.id;
}

describe('updateProfile', () => {
  it('changes the name (trimmed) and leaves what is not given', async () => {
    const user = await registerUser(server, { name: 'Before' });
    const { updateProfile } = await server.ok(Update, { input: { name: '  After  ' } }, { token: user.token });
    expect(updateProfile.user).toEqual({ id: user.id, name: 'After', avatarUrl: null, deleted: false });
    for (const name of ['   ', 'x'.repeat(101)]) {
      const res = await server.gql(Update, { input: { name } }, { token: user.token });
      expect(res.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    }
    expect((await server.ok(Update, { input: {} }, { token: user.token })).updateProfile.user.name).toBe('After');
  });

  it('sets an avatar seen by the org’s members through a signed URL; replacing it deletes the old one’s bytes; null removes it', async () => {
    const { owner, members } = await orgWithMembers(server, 1);
    const first = await avatar(owner);
    const { updateProfile } = await server.ok(Update, { input: { avatarId: first } }, { token: owner.token });
    const url = updateProfile.user.avatarUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attachments\//);
    const seen = await server.ok(UserQuery, { id: owner.id }, { token: members[0].token });
    expect(seen.node).toMatchObject({ id: owner.id, avatarUrl: expect.stringContaining('/attachments/') });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    // Someone outside the org does not see the user at all.
    const stranger = await registerUser(server);
    expect((await server.gql(UserQuery, { id: owner.id }, { token: stranger.token })).data?.node ?? null).toBeNull();

    // The sweeper keeps an avatar, however old.
    await sweepAttachments(server.app.services, Date.now() + 365 * 24 * 3600_000);
    expect((await fetch(url)).status).toBe(200);

    const second = await avatar(owner);
    const next = await server.ok(Update, { input: { avatarId: second } }, { token: owner.token });
    expect(next.updateProfile.user.avatarUrl).not.toBe(url);
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(next.updateProfile.user.avatarUrl!)).status).toBe(200);

    const cleared = await server.ok(Update, { input: { avatarId: null } }, { token: owner.token });
    expect(cleared.updateProfile.user.avatarUrl).toBeNull();
    expect((await fetch(next.updateProfile.user.avatarUrl!)).status).toBe(404);
  });

  it('refuses as avatar someone else’s upload, a file that is not an image, one not uploaded yet, or any id that is not an upload', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const theirs = await avatar(members[0]);
    const pdf = await uploadFile(server, owner.token, org.id, 'doc.txt', 'text/plain', Buffer.from('plain text'));
    const { createUpload: pending } = await server.ok<any, any>(CreateUpload, { input: { purpose: 'AVATAR', filename: 'p.png', contentType: 'image/png', byteSize: 100 } }, { token: owner.token });
    for (const avatarId of [theirs, pdf, pending.attachment.id, org.id]) {
      const res = await server.gql(Update, { input: { avatarId } }, { token: owner.token });
      expect(res.errors?.[0].extensions, avatarId).toMatchObject({ code: 'BAD_USER_INPUT', field: 'avatarId' });
    }
    const me = await server.ok(UserQuery, { id: owner.id }, { token: owner.token });
    expect(me.node).toMatchObject({ avatarUrl: null });
  });

  it('avatar uploads: images only, in no org, within the free plan’s size; a message upload still needs its org', async () => {
    const user = await registerUser(server);
    const attempt = (input: Record<string, unknown>) => server.gql<any, any>(CreateUpload, { input: { filename: 'a.png', contentType: 'image/png', byteSize: 10, ...input } }, { token: user.token });
    expect((await attempt({ purpose: 'AVATAR', contentType: 'text/plain' })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'contentType' });
    expect((await attempt({ purpose: 'AVATAR', byteSize: 4097 })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' });
    const { org } = await orgWithMembers(server);
    expect((await attempt({ purpose: 'AVATAR', orgId: org.id })).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'orgId' });
    expect((await attempt({})).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'orgId' });
    expect((await server.gql<any, any>(CreateUpload, { input: { purpose: 'AVATAR', filename: 'a.png', contentType: 'image/png', byteSize: 10 } })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is for the person themselves: anonymous callers and API keys are refused', async () => {
    const { org, owner } = await orgWithMembers(server);
    const key = await createApiKey(server, owner, org.id, ['READ', 'WRITE']);
    expect(await server.errorCode(Update, { input: { name: 'x' } })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Update, { input: { name: 'x' } }, { apiKey: key.key })).toBe('FORBIDDEN');
    expect((await server.ok(UserQuery, { id: owner.id }, { token: owner.token })).node).toMatchObject({ name: 'Owner' });
  });
});
