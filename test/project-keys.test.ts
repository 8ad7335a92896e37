import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { ChatSendDoc, createThread, send } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateProject = graphql(`mutation PkCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const UpdateProject = graphql(`mutation PkUpdate($input: UpdateProjectInput!) { updateProject(input: $input) { id name description } }`);
const DeleteProject = graphql(`mutation PkDelete($input: DeleteProjectInput!) { deleteProject(input: $input) { deletedId } }`);
const Share = graphql(`mutation PkShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const ProjectQ = graphql(`query PkProject($id: ID!) { project(id: $id) { id name description threads { edges { node { id } } } } }`);
const ThreadQ = graphql(`query PkThread($id: ID!) { thread(id: $id) { id title } }`);
const ThreadOrg = graphql(`query PkThreadOrg($id: ID!) { thread(id: $id) { org { name members { edges { node { role } } } } } }`);
const NodeQ = graphql(`query PkNode($id: ID!) { node(id: $id) { id } }`);
const CreateKey = graphql(`
  mutation PkCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id scopes project { id } } } }
`);
const Revoke = graphql(`mutation PkRevoke($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id revokedAt } }`);
const CreateThreadDoc = graphql(`mutation PkCreateThread($input: CreateThreadInput!) { createThread(input: $input) { id project { id } } }`);
const Append = graphql(`mutation PkAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { id } } }`);
const OrgQ = graphql(`query PkOrg($id: ID!) { org(id: $id) { id } }`);
const Search = graphql(`query PkSearch($orgId: ID!) { searchMessages(orgId: $orgId, query: "hello") { edges { score } } }`);
const CreateRoom = graphql(`mutation PkRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Events = graphql(`subscription PkEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename } }`);

let server: TestServer;
let owner: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 0);
  owner = o.owner;
  orgId = o.org.id;
});

const project = async (user: TestUser, org = orgId, name = 'P') =>
  (await server.ok(CreateProject, { input: { orgId: org, name, description: 'first' } }, { token: user.token })).createProject.id;
const key = async (user: TestUser, projectId: string | null, scopes: ('READ' | 'WRITE' | 'CHAT')[] = ['READ', 'WRITE', 'CHAT'], org = orgId) =>
  (await server.ok(CreateKey, { input: { orgId: org, name: 'k', scopes, projectId } }, { token: user.token })).createApiKey;

describe('updateProject and deleteProject', () => {
  it('are for project ADMINs: the creator, org admins and ADMIN shares', async () => {
    const [creator, adminShare, writeShare, bystander, orgAdmin, outsider] = await Promise.all(Array.from({ length: 6 }, () => registerUser(server)));
    for (const u of [creator, adminShare, writeShare, bystander]) await addMember(server, orgId, owner, u);
    await addMember(server, orgId, owner, orgAdmin, 'ADMIN');
    const p = await project(creator);
    await server.ok(Share, { input: { projectId: p, userId: adminShare.id, access: 'ADMIN' } }, { token: creator.token });
    await server.ok(Share, { input: { projectId: p, userId: writeShare.id, access: 'WRITE' } }, { token: creator.token });
    const writeKey = await key(owner, null, ['WRITE']);

    const upd = (auth: { token?: string; apiKey?: string }, input: Record<string, unknown>) => server.gql(UpdateProject, { input: { projectId: p, ...input } as never }, auth);
    expect((await upd({ token: writeShare.token }, { name: 'x' })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await upd({ token: bystander.token }, { name: 'x' })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await upd({ token: outsider.token }, { name: 'x' })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await upd({ apiKey: writeKey.key }, { name: 'x' })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await upd({}, { name: 'x' })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await upd({ token: creator.token }, { name: '  ' })).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await upd({ token: creator.token }, { description: 'd'.repeat(5001) })).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await server.ok(ProjectQ, { id: p }, { token: creator.token })).project).toMatchObject({ name: 'P', description: 'first' });

    expect((await upd({ token: creator.token }, { name: 'Renamed' })).data?.updateProject).toMatchObject({ name: 'Renamed', description: 'first' });
    expect((await upd({ token: adminShare.token }, { description: null })).data?.updateProject).toMatchObject({ name: 'Renamed', description: null });
    expect((await upd({ token: orgAdmin.token }, { name: 'By admin', description: 'again' })).data?.updateProject).toMatchObject({ name: 'By admin', description: 'again' });

    for (const [who, code] of [[writeShare, 'FORBIDDEN'], [bystander, 'NOT_FOUND'], [outsider, 'NOT_FOUND']] as const) {
      expect(await server.errorCode(DeleteProject, { input: { projectId: p } }, { token: who.token })).toBe(code);
    }
    expect(await server.errorCode(DeleteProject, { input: { projectId: p } }, { apiKey: writeKey.key })).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteProject, { input: { projectId: orgId } }, { token: creator.token })).toBe('BAD_USER_INPUT');
    expect((await server.ok(DeleteProject, { input: { projectId: p } }, { token: adminShare.token })).deleteProject.deletedId).toBe(p);
    expect(await server.errorCode(ProjectQ, { id: p }, { token: creator.token })).toBe('NOT_FOUND');
  });

  it('cascades to threads, messages, shares and the project keys, and nothing else', async () => {
    const p = await project(owner);
    const other = await project(owner, orgId, 'other');
    const inP = await createThread(server, owner.token, orgId, 'in p', p);
    const inOther = await createThread(server, owner.token, orgId, 'in other', other);
    await send(server, { token: owner.token }, inP.id, 'hello there');
    const pKey = await key(owner, p);
    const otherKey = await key(owner, other);
    await server.ok(DeleteProject, { input: { projectId: p } }, { token: owner.token });
    expect(await server.errorCode(ThreadQ, { id: inP.id }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(ProjectQ, { id: p }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(ThreadQ, { id: inOther.id }, { apiKey: pKey.key })).toBe('UNAUTHENTICATED');
    expect((await server.ok(ThreadQ, { id: inOther.id }, { apiKey: otherKey.key })).thread!.id).toBe(inOther.id);
    expect(await server.errorCode(DeleteProject, { input: { projectId: p } }, { token: owner.token })).toBe('NOT_FOUND');
  });
});

describe('API keys scoped to a project', () => {
  it('are made by org admins or the project ADMIN, with project-level scopes, in the same org', async () => {
    const creator = await registerUser(server);
    const member = await registerUser(server);
    await addMember(server, orgId, owner, creator);
    await addMember(server, orgId, owner, member);
    const p = await project(creator);
    const made = await key(creator, p, ['READ']);
    expect(made.apiKey.project?.id).toBe(p);
    expect((await key(owner, p, ['READ'])).apiKey.project?.id).toBe(p);
    const input = { orgId, name: 'k', scopes: ['READ' as const], projectId: p };
    expect(await server.errorCode(CreateKey, { input }, { token: member.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateKey, { input: { ...input, projectId: undefined } }, { token: creator.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateKey, { input: { ...input, scopes: ['READ', 'NOTIFY'] } }, { token: creator.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(CreateKey, { input: { ...input, projectId: orgId } }, { token: creator.token })).toBe('BAD_USER_INPUT');
    const elsewhere = await orgWithMembers(server, 0);
    const foreign = await project(elsewhere.owner, elsewhere.org.id);
    expect(await server.errorCode(CreateKey, { input: { ...input, projectId: foreign } }, { token: owner.token })).toBe('NOT_FOUND');
    await addMember(server, elsewhere.org.id, elsewhere.owner, owner, 'ADMIN');
    expect(await server.errorCode(CreateKey, { input: { ...input, projectId: foreign } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Revoke, { input: { apiKeyId: made.apiKey.id } }, { token: member.token })).toBe('FORBIDDEN');
    expect((await server.ok(Revoke, { input: { apiKeyId: made.apiKey.id } }, { token: creator.token })).revokeApiKey.revokedAt).toBeTruthy();
  });

  it("reach their project's data only, and are refused everywhere else", async () => {
    const p = await project(owner);
    const other = await project(owner, orgId, 'other');
    const mine = await createThread(server, owner.token, orgId, 'mine', p);
    const theirs = await createThread(server, owner.token, orgId, 'theirs', other);
    const loose = await createThread(server, owner.token, orgId, 'no project');
    const k = (await key(owner, p)).key;
    const auth = { apiKey: k };

    // Inside the project: read, create threads, append, chat, subscribe.
    expect((await server.ok(ProjectQ, { id: p }, auth)).project!.threads.edges.map((e) => e.node.id)).toEqual([mine.id]);
    expect((await server.ok(ThreadQ, { id: mine.id }, auth)).thread!.title).toBe('mine');
    expect((await server.ok(CreateThreadDoc, { input: { orgId, projectId: p, title: 'by key' } }, auth)).createThread.project?.id).toBe(p);
    await server.ok(Append, { input: { threadId: mine.id, role: 'USER', content: 'hi' } }, auth);
    expect((await send(server, auth, mine.id, 'hello')).assistantMessage.status).toBe('COMPLETE');
    expect((await server.ok(NodeQ, { id: mine.id }, auth)).node?.id).toBe(mine.id);

    // Other projects and threads outside any project: as if they did not exist.
    expect(await server.errorCode(ProjectQ, { id: other }, auth)).toBe('NOT_FOUND');
    for (const t of [theirs, loose]) {
      expect(await server.errorCode(ThreadQ, { id: t.id }, auth)).toBe('NOT_FOUND');
      expect(await server.errorCode(Append, { input: { threadId: t.id, role: 'USER', content: 'x' } }, auth)).toBe('NOT_FOUND');
      expect(await server.errorCode(ChatSendDoc, { input: { threadId: t.id, content: 'x' } }, auth)).toBe('NOT_FOUND');
      expect(await server.errorCode(NodeQ, { id: t.id }, auth)).toBe('NOT_FOUND');
      const rejected = await subscribe(server.ws(auth), Events, { threadId: t.id }).rejection();
      expect(rejected?.extensions?.code).toBe('NOT_FOUND');
    }
    expect(await server.errorCode(NodeQ, { id: other }, auth)).toBe('NOT_FOUND');

    // Org-level operations: refused.
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId, title: 'x' } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId, projectId: other, title: 'x' } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateProject, { input: { orgId, name: 'x' } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(OrgQ, { id: orgId }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(NodeQ, { id: orgId }, auth)).toBe('NOT_FOUND');
    expect((await server.gql(ThreadOrg, { id: mine.id }, auth)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await server.errorCode(Search, { orgId }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateRoom, { input: { orgId, name: 'r', type: 'GROUP' } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateKey, { input: { orgId, name: 'k', scopes: ['READ'], projectId: p } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(UpdateProject, { input: { projectId: p, name: 'x' } }, auth)).toBe('FORBIDDEN');
    expect(await server.errorCode(DeleteProject, { input: { projectId: p } }, auth)).toBe('FORBIDDEN');
    const rest = await fetch(`${server.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(rest.status).toBe(403);

    // Another org: NOT_FOUND, as for any org key.
    const elsewhere = await createOrg(server, owner, 'Elsewhere');
    expect(await server.errorCode(OrgQ, { id: elsewhere.id }, auth)).toBe('NOT_FOUND');
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId: elsewhere.id, projectId: p, title: 'x' } }, auth)).toBe('NOT_FOUND');
    expect((await server.ok(ProjectQ, { id: p }, { token: owner.token })).project!.threads.edges.length).toBe(2);
  });

  it('an org-wide key keeps reaching every project and the org', async () => {
    const p = await project(owner);
    const t = await createThread(server, owner.token, orgId, 't', p);
    const orgKey = (await key(owner, null, ['READ'])).key;
    expect((await server.ok(ThreadQ, { id: t.id }, { apiKey: orgKey })).thread!.id).toBe(t.id);
    expect((await server.ok(ThreadOrg, { id: t.id }, { apiKey: orgKey })).thread!.org.members.edges.length).toBeGreaterThan(0);
    expect((await server.ok(OrgQ, { id: orgId }, { apiKey: orgKey })).org!.id).toBe(orgId);
  });
});
