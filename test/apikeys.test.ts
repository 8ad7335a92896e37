import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const OrgQuery = graphql(`query ApiKeysOrg($id: ID!) { org(id: $id) { id name viewerRole } }`);
const Keys = graphql(`
  query ApiKeysList($id: ID!) { org(id: $id) { apiKeys(first: 10) { edges { node { id name prefix scopes lastUsedAt revokedAt } } } } }
`);
const Create = graphql(`
  mutation ApiKeysCreate($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id scopes } } }
`);
const Revoke = graphql(`mutation ApiKeysRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`);
const Changes = graphql(`
  subscription ApiKeysMembership($orgId: ID!) { membershipChanged(orgId: $orgId) { userId role } }
`);
const Invite = graphql(`mutation ApiKeysInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`);
const Accept = graphql(`mutation ApiKeysAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { role } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});

describe('API keys', () => {
  it('are shown once, stored hashed, and authenticate over HTTP (X-API-Key and Bearer)', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { key, apiKey } = await createApiKey(server, owner, org.id, ['READ']);
    expect(key).toMatch(/^cfk_[\w-]{40,}$/);
    expect(apiKey.prefix).toBe(key.slice(0, 10));
    const { org: viaHeader } = await server.ok(OrgQuery, { id: org.id }, { apiKey: key });
    expect(viaHeader).toMatchObject({ id: org.id, viewerRole: null });
    const { org: viaBearer } = await server.ok(OrgQuery, { id: org.id }, { token: key });
    expect(viaBearer!.id).toBe(org.id);
    const { org: listed } = await server.ok(Keys, { id: org.id }, { token: owner.token });
    const node = listed!.apiKeys.edges[0].node;
    expect(node.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(key.slice(10));
  });

  it('act only in their own org and within their scopes', async () => {
    const { org, owner } = await orgWithMembers(server);
    const other = await orgWithMembers(server);
    const { key } = await createApiKey(server, owner, org.id, ['WRITE']);
    expect(await server.errorCode(OrgQuery, { id: other.org.id }, { apiKey: key })).toBe('NOT_FOUND');
    expect(await server.errorCode(OrgQuery, { id: org.id }, { apiKey: key })).toBe('FORBIDDEN');
    // Keys cannot mint keys or manage members.
    const { key: reader } = await createApiKey(server, owner, org.id, ['READ']);
    expect(await server.errorCode(Create, { input: { orgId: org.id, name: 'x', scopes: ['READ'] } }, { apiKey: reader })).toBe('FORBIDDEN');
    expect(await server.errorCode(Keys, { id: org.id }, { apiKey: reader })).toBe('FORBIDDEN');
  });

  it('are refused after revocation, over HTTP and WS', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { key, apiKey } = await createApiKey(server, owner, org.id, ['READ']);
    await server.ok(Revoke, { input: { apiKeyId: apiKey.id } }, { token: owner.token });
    const res = await server.gql(OrgQuery, { id: org.id }, { apiKey: key });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'API_KEY_INVALID' });
    const client = server.ws({ apiKey: key });
    const closed = new Promise<number>((resolve) => client.on('closed', (e: any) => resolve(e.code)));
    const sub = subscribe(client, Changes, { orgId: org.id });
    expect(await closed).toBe(4403);
    await expect(sub.ended).resolves.toBeDefined();
  });

  it('only org admins create and revoke them; bad input is refused', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const outsider = await registerUser(server);
    const input = { orgId: org.id, name: 'ci', scopes: ['READ' as const] };
    expect(await server.errorCode(Create, { input }, { token: members[0].token })).toBe('FORBIDDEN');
    expect(await server.errorCode(Create, { input }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Create, { input: { ...input, scopes: [] } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Create, { input: { ...input, name: ' ' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    const { apiKey } = await createApiKey(server, owner, org.id);
    expect(await server.errorCode(Revoke, { input: { apiKeyId: apiKey.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Revoke, { input: { apiKeyId: apiKey.id } }, { token: members[0].token })).toBe('FORBIDDEN');
    const { org: listed } = await server.ok(Keys, { id: org.id }, { token: owner.token });
    expect(listed!.apiKeys.edges.map((e) => e.node.revokedAt)).toEqual([null]);
  });

  it('authenticate a subscription over WS, which sees membership changes of its org only', async () => {
    const { org, owner } = await orgWithMembers(server);
    const other = await orgWithMembers(server);
    const { key } = await createApiKey(server, owner, org.id, ['READ']);
    const client = server.ws({ apiKey: key });
    const denied = subscribe(client, Changes, { orgId: other.org.id });
    expect((await denied.rejection())?.extensions?.code).toBe('NOT_FOUND');
    const sub = subscribe(client, Changes, { orgId: org.id });
    await new Promise((r) => setTimeout(r, 100));
    const joiner = await registerUser(server);
    const { inviteMember } = await server.ok(Invite, { input: { orgId: org.id, email: joiner.email, role: 'MEMBER' } }, { token: owner.token });
    await server.ok(Accept, { input: { token: inviteMember.token } }, { token: joiner.token });
    const event = await sub.next();
    expect(event.data?.membershipChanged).toEqual({ userId: joiner.id, role: 'MEMBER' });
    sub.close();
  });
});
