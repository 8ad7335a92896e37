import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { addMember, createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateProject = graphql(`
  mutation ThreadsCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id name description viewerAccess } }
`);
const Share = graphql(`
  mutation ThreadsShare($input: ShareProjectInput!) { shareProject(input: $input) { id access user { id } project { id shares { access user { id } } } } }
`);
const Unshare = graphql(`
  mutation ThreadsUnshare($input: UnshareProjectInput!) { unshareProject(input: $input) { deletedId project { id shares { id user { id } } } } }
`);
const SetPublic = graphql(`
  mutation ThreadsSetPublic($input: SetProjectPublicAccessInput!) { setProjectPublicAccess(input: $input) { id publicAccess } }
`);
const ProjectQ = graphql(`
  query ThreadsProject($id: ID!) { project(id: $id) { id name viewerAccess threads { totalCount edges { node { id title } } } } }
`);
const MyProjects = graphql(`query ThreadsMyProjects { me { projects { edges { node { id } } } } }`);
const CreateThreadDoc = graphql(`
  mutation ThreadsCreateThread($input: CreateThreadInput!) { createThread(input: $input) { id title metadata project { id } } }
`);
const UpdateThread = graphql(`
  mutation ThreadsUpdateThread($input: UpdateThreadInput!) { updateThread(input: $input) { id title status metadata } }
`);
const DeleteThread = graphql(`mutation ThreadsDeleteThread($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const ThreadQ = graphql(`query ThreadsThread($id: ID!) { thread(id: $id) { id title status } }`);
const MyThreads = graphql(`
  query ThreadsMyThreads($filter: ThreadFilterInput, $orderBy: ThreadOrderInput, $first: Int, $after: String) {
    me { threads(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      totalCount
      edges { node { id title createdAt updatedAt } }
      pageInfo { hasNextPage endCursor }
    } }
  }
`);
const Link = graphql(`
  mutation ThreadsLink($input: LinkThreadsInput!) { linkThreads(input: $input) { id kind from { id } to { id } } }
`);
const Unlink = graphql(`mutation ThreadsUnlink($input: UnlinkThreadsInput!) { unlinkThreads(input: $input) { deletedId from { id } to { id } } }`);
const Relations = graphql(`query ThreadsRelations($id: ID!) { thread(id: $id) { relations { id kind from { id } to { id } } } }`);
const AddCtx = graphql(`
  mutation ThreadsAddCtx($input: AddContextNodeInput!) { addContextNode(input: $input) { id kind title content tags parent { id } } }
`);
const UpdateCtx = graphql(`mutation ThreadsUpdateCtx($input: UpdateContextNodeInput!) { updateContextNode(input: $input) { id title tags } }`);
const RemoveCtx = graphql(`mutation ThreadsRemoveCtx($input: RemoveContextNodeInput!) { removeContextNode(input: $input) { deletedId deletedIds thread { id contexts { id } } } }`);
const Contexts = graphql(`
  query ThreadsContexts($id: ID!) {
    thread(id: $id) { contexts { id title children { id title children { id title } } } }
  }
`);

const ListWithEdges = graphql(`
  query ThreadsListWithEdges {
    me { threads(first: 50) { edges { node { id messageCount firstMessage { content } lastMessage { content role } project { name } } } } }
  }
`);
const Node = graphql(`query ThreadsNode($id: ID!) { node(id: $id) { id __typename } }`);
const Lookups = graphql(`query ThreadsLookups($threadId: ID!, $projectId: ID!) { thread(id: $threadId) { id } project(id: $projectId) { id } me { id } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ countQueries: true });
});

async function project(owner: TestUser, orgId: string, name = 'P') {
  return (await server.ok(CreateProject, { input: { orgId, name, description: 'd' } }, { token: owner.token })).createProject;
}

describe('projects and shares', () => {
  it('a member sees a project only when shared, at the shared access, until unshared', async () => {
    const { org, owner, members } = await orgWithMembers(server, 2);
    const [ann, bob] = members;
    const p = await project(owner, org.id);
    expect(p.viewerAccess).toBe('ADMIN');
    const t = await createThread(server, owner.token, org.id, 'in project', p.id);
    expect(await server.errorCode(ProjectQ, { id: p.id }, { token: ann.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(ThreadQ, { id: t.id }, { token: ann.token })).toBe('NOT_FOUND');

    await server.ok(Share, { input: { projectId: p.id, userId: ann.id, access: 'READ' } }, { token: owner.token });
    const seen = await server.ok(ProjectQ, { id: p.id }, { token: ann.token });
    expect(seen.project).toMatchObject({ viewerAccess: 'READ', threads: { totalCount: 1, edges: [{ node: { id: t.id } }] } });
    expect((await server.ok(MyProjects, {}, { token: ann.token })).me?.projects.edges.map((e) => e.node.id)).toEqual([p.id]);
    // READ cannot write, share or chat.
    expect(await server.errorCode(UpdateThread, { input: { threadId: t.id, title: 'x' } }, { token: ann.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId: org.id, projectId: p.id, title: 'x' } }, { token: ann.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(Share, { input: { projectId: p.id, userId: bob.id, access: 'READ' } }, { token: ann.token })).toBe('FORBIDDEN');

    await server.ok(Share, { input: { projectId: p.id, userId: ann.id, access: 'WRITE' } }, { token: owner.token });
    await server.ok(UpdateThread, { input: { threadId: t.id, title: 'renamed' } }, { token: ann.token });
    const r = await send(server, { token: ann.token }, t.id, 'hello from ann');
    expect(r.assistantMessage.status).toBe('COMPLETE');
    expect(await server.errorCode(DeleteThread, { input: { threadId: t.id } }, { token: ann.token })).toBe('FORBIDDEN');

    const { shareProject: share } = await server.ok(Share, { input: { projectId: p.id, userId: bob.id, access: 'READ' } }, { token: owner.token });
    expect(share).toMatchObject({ access: 'READ', user: { id: bob.id }, project: { id: p.id } });
    const { unshareProject } = await server.ok(Unshare, { input: { projectId: p.id, userId: ann.id } }, { token: owner.token });
    expect(unshareProject.project.shares).toEqual([{ id: share.id, user: { id: bob.id } }]);
    expect(unshareProject.deletedId).not.toBe(share.id);
    expect(await server.errorCode(ProjectQ, { id: p.id }, { token: ann.token })).toBe('NOT_FOUND');
    // Gone already: NOT_FOUND, and nothing changes.
    expect(await server.errorCode(Unshare, { input: { projectId: p.id, userId: ann.id } }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Node, { id: unshareProject.deletedId }, { token: owner.token })).toBe('NOT_FOUND');
    expect((await server.ok(Node, { id: share.id }, { token: owner.token })).node).toEqual({ id: share.id, __typename: 'ProjectShare' });
    expect(await server.errorCode(Node, { id: share.id }, { token: bob.token })).toBe('NOT_FOUND');
  });

  it('a public share gives every org member access, never outsiders', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const p = await project(owner, org.id);
    const outsider = await registerUser(server);
    const { setProjectPublicAccess } = await server.ok(SetPublic, { input: { projectId: p.id, access: 'READ' } }, { token: owner.token });
    expect(setProjectPublicAccess.publicAccess).toBe('READ');
    expect((await server.ok(ProjectQ, { id: p.id }, { token: members[0].token })).project!.viewerAccess).toBe('READ');
    expect(await server.errorCode(ProjectQ, { id: p.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(SetPublic, { input: { projectId: p.id, access: null } }, { token: members[0].token })).toBe('FORBIDDEN');
    await server.ok(SetPublic, { input: { projectId: p.id, access: null } }, { token: owner.token });
    expect(await server.errorCode(ProjectQ, { id: p.id }, { token: members[0].token })).toBe('NOT_FOUND');
  });

  it('rejects a share with an unknown user, or an ID of another type', async () => {
    const { org, owner } = await orgWithMembers(server);
    const p = await project(owner, org.id);
    expect(await server.errorCode(Share, { input: { projectId: p.id, userId: p.id, access: 'READ' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Share, { input: { projectId: p.id, userId: 'VXNlcjpub3BlCg==', access: 'READ' } }, { token: owner.token })).toBe('NOT_FOUND');
  });

  it('org admins manage every project; an API key reads with READ and writes with WRITE', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const admin = await registerUser(server);
    await addMember(server, org.id, owner, admin, 'ADMIN');
    const p = await project(members[0], org.id, 'member project');
    expect((await server.ok(ProjectQ, { id: p.id }, { token: admin.token })).project!.viewerAccess).toBe('ADMIN');
    const reader = await createApiKey(server, owner, org.id, ['READ']);
    expect((await server.ok(ProjectQ, { id: p.id }, { apiKey: reader.key })).project!.viewerAccess).toBe('READ');
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId: org.id, title: 'x' } }, { apiKey: reader.key })).toBe('FORBIDDEN');
    const writer = await createApiKey(server, owner, org.id, ['WRITE']);
    await server.ok(CreateThreadDoc, { input: { orgId: org.id, projectId: p.id, title: 'bot thread' } }, { apiKey: writer.key });
  });
});

describe('threads', () => {
  it('creates, updates (title, status, metadata) and deletes; validates input', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { createThread: t } = await server.ok(CreateThreadDoc, { input: { orgId: org.id, title: ' T ', metadata: { tag: 1 } } }, { token: owner.token });
    expect(t).toMatchObject({ title: 'T', metadata: { tag: 1 }, project: null });
    const { updateThread } = await server.ok(UpdateThread, { input: { threadId: t.id, status: 'ARCHIVED', metadata: { tag: 2 } } }, { token: owner.token });
    expect(updateThread).toMatchObject({ title: 'T', status: 'ARCHIVED', metadata: { tag: 2 } });
    expect(await server.errorCode(UpdateThread, { input: { threadId: t.id, title: '' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId: org.id, title: '' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    await server.ok(DeleteThread, { input: { threadId: t.id } }, { token: owner.token });
    expect(await server.errorCode(ThreadQ, { id: t.id }, { token: owner.token })).toBe('NOT_FOUND');
  });

  it('refuses a project of another org', async () => {
    const a = await orgWithMembers(server);
    const b = await orgWithMembers(server);
    const p = await project(b.owner, b.org.id);
    await addMember(server, b.org.id, b.owner, a.owner);
    expect(await server.errorCode(CreateThreadDoc, { input: { orgId: a.org.id, projectId: p.id, title: 'x' } }, { token: a.owner.token })).toBe('BAD_USER_INPUT');
  });

  it('me.threads filters by project, status and date ranges, orders both ways, and pages', async () => {
    const { org, owner } = await orgWithMembers(server);
    const p = await project(owner, org.id);
    // A few ms apart, so that no two timestamps tie.
    const pause = () => new Promise((r) => setTimeout(r, 5));
    const t1 = await createThread(server, owner.token, org.id, 't1', p.id);
    await pause();
    const t2 = await createThread(server, owner.token, org.id, 't2');
    await pause();
    await createThread(server, owner.token, org.id, 't3', p.id);
    await pause();
    await server.ok(UpdateThread, { input: { threadId: t2.id, status: 'ARCHIVED' } }, { token: owner.token });
    await pause();
    await send(server, { token: owner.token }, t1.id, 'bump'); // updated order now: t3, t2, t1
    const list = async (vars: Parameters<typeof server.ok<any, any>>[1]) =>
      (await server.ok(MyThreads, vars, { token: owner.token })).me!.threads.edges.map((e) => e.node);
    const titles = async (vars: object) => (await list(vars)).map((n) => n.title);

    expect(await titles({})).toEqual(['t1', 't2', 't3']);
    expect(await titles({ orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).toEqual(['t1', 't2', 't3']);
    expect(await titles({ orderBy: { field: 'CREATED_AT', direction: 'DESC' } })).toEqual(['t3', 't2', 't1']);
    expect(await titles({ orderBy: { field: 'UPDATED_AT', direction: 'ASC' } })).toEqual(['t3', 't2', 't1']);
    expect(await titles({ filter: { projectId: p.id } })).toEqual(['t1', 't3']);
    expect(await titles({ filter: { status: 'ARCHIVED' } })).toEqual(['t2']);
    expect(await titles({ filter: { status: 'ACTIVE', projectId: p.id }, orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).toEqual(['t1', 't3']);

    const all = await list({ orderBy: { field: 'CREATED_AT', direction: 'ASC' } });
    const created = all.map((n) => n.createdAt);
    expect(await titles({ filter: { createdAfter: created[0] }, orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).toEqual(['t2', 't3']);
    expect(await titles({ filter: { createdBefore: created[2] }, orderBy: { field: 'CREATED_AT', direction: 'ASC' } })).toEqual(['t1', 't2']);
    expect(await titles({ filter: { createdAfter: created[0], createdBefore: created[2] } })).toEqual(['t2']);
    const [u1, u2, u3] = all.map((n) => n.updatedAt);
    expect(await titles({ filter: { updatedBefore: u1 }, orderBy: { field: 'UPDATED_AT', direction: 'ASC' } })).toEqual(['t3', 't2']);
    expect(await titles({ filter: { updatedAfter: u3 } })).toEqual(['t1', 't2']);
    expect(await titles({ filter: { updatedAfter: u3, updatedBefore: u1 } })).toEqual(['t2']);
    expect(await titles({ filter: { updatedAfter: u2 } })).toEqual(['t1']);

    const page1 = (await server.ok(MyThreads, { first: 2, orderBy: { field: 'CREATED_AT', direction: 'ASC' } }, { token: owner.token })).me!.threads;
    expect(page1.edges.map((e) => e.node.title)).toEqual(['t1', 't2']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    expect(page1.totalCount).toBe(3);
    expect((await server.ok(MyThreads, { first: 1, filter: { projectId: p.id } }, { token: owner.token })).me!.threads.totalCount).toBe(2);
    const page2 = (await server.ok(MyThreads, { first: 2, after: page1.pageInfo.endCursor, orderBy: { field: 'CREATED_AT', direction: 'ASC' } }, { token: owner.token })).me!.threads;
    expect(page2.edges.map((e) => e.node.title)).toEqual(['t3']);
  });
});

describe('root lookups', () => {
  it('answer a missing or hidden thread or project with null and NOT_FOUND, and the other root fields still answer', async () => {
    const { org, owner } = await orgWithMembers(server);
    const p = await project(owner, org.id);
    const t = await createThread(server, owner.token, org.id, 'lookup', p.id);
    const outsider = await registerUser(server);
    const ids = { threadId: t.id, projectId: p.id };
    expect(await server.ok(Lookups, ids, { token: owner.token })).toEqual({ thread: { id: t.id }, project: { id: p.id }, me: { id: owner.id } });
    const hidden = await server.gql(Lookups, ids, { token: outsider.token });
    expect(hidden.data).toEqual({ thread: null, project: null, me: { id: outsider.id } });
    expect(hidden.errors?.map((e) => [e.path?.[0], e.extensions?.code]).sort()).toEqual([['project', 'NOT_FOUND'], ['thread', 'NOT_FOUND']]);
    await server.ok(DeleteThread, { input: { threadId: t.id } }, { token: owner.token });
    const gone = await server.gql(Lookups, ids, { token: owner.token });
    expect(gone.data).toEqual({ thread: null, project: { id: p.id }, me: { id: owner.id } });
    expect(gone.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });
});

describe('node(id)', () => {
  it('returns threads, projects and context nodes only to those who may read them', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const p = await project(owner, org.id);
    const t = await createThread(server, owner.token, org.id, 'n', p.id);
    const { addContextNode: c } = await server.ok(AddCtx, { input: { threadId: t.id, kind: 'k', content: 'c' } }, { token: owner.token });
    const outsider = await registerUser(server);
    for (const id of [p.id, t.id, c.id]) {
      expect((await server.ok(Node, { id }, { token: owner.token })).node?.id).toBe(id);
      expect(await server.errorCode(Node, { id }, { token: outsider.token })).toBe('NOT_FOUND');
      expect(await server.errorCode(Node, { id }, { token: members[0].token })).toBe('NOT_FOUND');
    }
    await server.ok(Share, { input: { projectId: p.id, userId: members[0].id, access: 'READ' } }, { token: owner.token });
    for (const id of [p.id, t.id, c.id]) expect((await server.ok(Node, { id }, { token: members[0].token })).node?.id).toBe(id);
  });
});

describe('listing cost', () => {
  it('reads first and last messages of a page of threads in a constant number of statements', async () => {
    const { org, owner } = await orgWithMembers(server);
    const p = await project(owner, org.id);
    const statements = async () => {
      await server.countFrom();
      const data = await server.ok(ListWithEdges, {}, { token: owner.token });
      return { data, count: server.queries.filter((q) => !/^(?:BEGIN|COMMIT|PRAGMA)/i.test(q.trim())).length };
    };
    const addThread = async (i: number) => {
      const t = await createThread(server, owner.token, org.id, `t${i}`, p.id);
      await send(server, { token: owner.token }, t.id, `hello ${i}`);
      await send(server, { token: owner.token }, t.id, `bye ${i}`);
    };
    for (let i = 0; i < 2; i++) await addThread(i);
    const small = await statements();
    for (let i = 2; i < 8; i++) await addThread(i);
    const big = await statements();
    expect(big.data.me!.threads.edges).toHaveLength(8);
    for (const { node } of big.data.me!.threads.edges) {
      expect(node.firstMessage?.content).toMatch(/^hello \d$/);
      expect(node.lastMessage).toEqual({ role: 'ASSISTANT', content: node.firstMessage!.content.replace('hello', 'bye') });
      expect(node.messageCount).toBe(4);
    }
    expect(big.count).toBe(small.count);
  });
});

describe('relations', () => {
  it('links and unlinks; refuses CHILD_OF cycles, self links and other orgs', async () => {
    const { org, owner } = await orgWithMembers(server);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => createThread(server, owner.token, org.id, n)));
    const link = (fromThreadId: string, toThreadId: string, kind: 'CHILD_OF' | 'RELATES_TO' | 'CONTINUES_FROM') => ({ input: { fromThreadId, toThreadId, kind } });
    const { linkThreads: ba } = await server.ok(Link, link(b.id, a.id, 'CHILD_OF'), { token: owner.token });
    // Linking twice answers the same link.
    expect((await server.ok(Link, link(b.id, a.id, 'CHILD_OF'), { token: owner.token })).linkThreads.id).toBe(ba.id);
    await server.ok(Link, link(c.id, b.id, 'CHILD_OF'), { token: owner.token });
    expect(await server.errorCode(Link, link(a.id, c.id, 'CHILD_OF'), { token: owner.token })).toBe('CONFLICT');
    expect(await server.errorCode(Link, link(a.id, b.id, 'CHILD_OF'), { token: owner.token })).toBe('CONFLICT');
    expect(await server.errorCode(Link, link(a.id, a.id, 'RELATES_TO'), { token: owner.token })).toBe('BAD_USER_INPUT');
    await server.ok(Link, link(a.id, c.id, 'RELATES_TO'), { token: owner.token });
    await server.ok(Link, link(c.id, a.id, 'CONTINUES_FROM'), { token: owner.token });
    const { thread } = await server.ok(Relations, { id: a.id }, { token: owner.token });
    expect(thread!.relations[0].id).toBe(ba.id);
    expect(thread!.relations.map((r) => [r.kind, r.from.id, r.to.id])).toEqual([
      ['CHILD_OF', b.id, a.id],
      ['RELATES_TO', a.id, c.id],
      ['CONTINUES_FROM', c.id, a.id],
    ]);
    const outsider = await registerUser(server);
    expect(await server.errorCode(Unlink, { input: { threadRelationId: ba.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect((await server.ok(Node, { id: ba.id }, { token: owner.token })).node).toEqual({ id: ba.id, __typename: 'ThreadRelation' });
    expect(await server.errorCode(Node, { id: ba.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect((await server.ok(Unlink, { input: { threadRelationId: ba.id } }, { token: owner.token })).unlinkThreads).toEqual({ deletedId: ba.id, from: { id: b.id }, to: { id: a.id } });
    expect(await server.errorCode(Unlink, { input: { threadRelationId: ba.id } }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Unlink, { input: { threadRelationId: a.id } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    await server.ok(Link, link(a.id, c.id, 'CHILD_OF'), { token: owner.token }); // no cycle any more

    const other = await orgWithMembers(server);
    const foreign = await createThread(server, other.owner.token, other.org.id, 'x');
    expect(await server.errorCode(Link, link(a.id, foreign.id, 'RELATES_TO'), { token: owner.token })).toBe('NOT_FOUND');
  });
});

describe('context tree', () => {
  it('builds a tree, updates and removes subtrees; outsiders cannot touch it', async () => {
    const { org, owner } = await orgWithMembers(server);
    const t = await createThread(server, owner.token, org.id);
    const add = async (title: string, parentContextNodeId?: string, tags: string[] = []) =>
      (await server.ok(AddCtx, { input: { threadId: t.id, parentContextNodeId, kind: 'note', title, content: `${title} body`, tags } }, { token: owner.token })).addContextNode;
    const root = await add('root', undefined, ['system-prompt']);
    const child = await add('child', root.id);
    const grand = await add('grand', child.id);
    await add('second root');
    const { thread } = await server.ok(Contexts, { id: t.id }, { token: owner.token });
    expect(thread!.contexts).toEqual([
      { id: root.id, title: 'root', children: [{ id: child.id, title: 'child', children: [{ id: grand.id, title: 'grand' }] }] },
      { id: expect.any(String), title: 'second root', children: [] },
    ]);
    const { updateContextNode } = await server.ok(UpdateCtx, { input: { contextNodeId: child.id, title: 'kid', tags: ['a', 'a', 'b'] } }, { token: owner.token });
    expect(updateContextNode).toMatchObject({ title: 'kid', tags: ['a', 'b'] });
    const outsider = await registerUser(server);
    expect(await server.errorCode(UpdateCtx, { input: { contextNodeId: child.id, title: 'x' } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(AddCtx, { input: { threadId: t.id, kind: 'k', content: 'c' } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(RemoveCtx, { input: { contextNodeId: child.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    const { removeContextNode } = await server.ok(RemoveCtx, { input: { contextNodeId: child.id } }, { token: owner.token });
    expect(removeContextNode.deletedId).toBe(child.id);
    expect(removeContextNode.deletedIds.sort()).toEqual([child.id, grand.id].sort());
    expect(removeContextNode.thread.contexts.map((c) => c.id)).toEqual([root.id, expect.any(String)]);
    const after = await server.ok(Contexts, { id: t.id }, { token: owner.token });
    expect(after.thread!.contexts[0].children).toEqual([]);
    expect(await server.errorCode(RemoveCtx, { input: { contextNodeId: child.id } }, { token: owner.token })).toBe('NOT_FOUND');
  });

  it('refuses a parent from another thread', async () => {
    const { org, owner } = await orgWithMembers(server);
    const t1 = await createThread(server, owner.token, org.id);
    const t2 = await createThread(server, owner.token, org.id);
    const { addContextNode: n } = await server.ok(AddCtx, { input: { threadId: t1.id, kind: 'k', content: 'c' } }, { token: owner.token });
    expect(await server.errorCode(AddCtx, { input: { threadId: t2.id, parentContextNodeId: n.id, kind: 'k', content: 'c' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });
});
