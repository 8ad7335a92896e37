import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/**
 * Project reach after losing a share (issue 17, item 7). A thread's creator keeps their thread when the
 * project is unshared from them, but no longer the way into the project: Thread.project is null for them
 * on every path to the thread, and the project, its other threads and its KV instances are out of reach
 * (node(id) included). A member who still holds a share reaches all of it.
 */
const CreateProject = graphql(`mutation ReachCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const Share = graphql(`mutation ReachShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const Unshare = graphql(`mutation ReachUnshare($input: UnshareProjectInput!) { unshareProject(input: $input) { deletedId } }`);
const CreateKv = graphql(`mutation ReachCreateKv($input: CreateKvInstanceInput!) { createKvInstance(input: $input) { id } }`);
const Attach = graphql(`mutation ReachAttach($input: AttachKvInstanceInput!) { attachKvInstance(input: $input) { editMode } }`);
const Link = graphql(`mutation ReachLink($input: LinkThreadsInput!) { linkThreads(input: $input) { kind } }`);

const ThreadReach = graphql(`
  query ReachThread($id: ID!) {
    thread(id: $id) {
      id
      project { id threads(first: 50) { edges { node { id title } } } kvInstances(first: 50) { edges { node { id name } } } }
      relations { from { id } to { id } }
      kvAttachments { kvInstance { id } }
      messages(first: 1) { edges { node { thread { project { id threads(first: 10) { edges { node { id } } } } } } } }
    }
  }
`);
const MyThreads = graphql(`
  query ReachMyThreads {
    me { threads(first: 10) { edges { node { id project { id threads(first: 10) { edges { node { id } } } kvInstances(first: 10) { edges { node { id } } } } } } } }
  }
`);
const NodeReach = graphql(`
  query ReachNode($id: ID!) {
    node(id: $id) {
      id
      ... on Thread { project { id threads(first: 50) { edges { node { id } } } } }
      ... on Project { threads(first: 50) { edges { node { id } } } kvInstances(first: 50) { edges { node { id } } } }
      ... on KvInstance { name }
    }
  }
`);
const ProjectQ = graphql(`query ReachProject($id: ID!) { project(id: $id) { id threads(first: 50) { edges { node { id } } } } }`);

let server: TestServer;
let owner: TestUser;
let creator: TestUser;
let keeper: TestUser;
let projectId: string;
let mine: { id: string };
let theirs: { id: string };
let kvId: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 2);
  owner = o.owner;
  [creator, keeper] = o.members;
  const auth = { token: owner.token };
  projectId = (await server.ok(CreateProject, { input: { orgId: o.org.id, name: 'Reach' } }, auth)).createProject.id;
  await server.ok(Share, { input: { projectId, userId: creator.id, access: 'WRITE' } }, auth);
  await server.ok(Share, { input: { projectId, userId: keeper.id, access: 'READ' } }, auth);
  mine = await createThread(server, creator.token, o.org.id, 'the creator’s', projectId);
  theirs = await createThread(server, owner.token, o.org.id, 'the owner’s', projectId);
  kvId = (await server.ok(CreateKv, { input: { projectId, name: 'notes' } }, auth)).createKvInstance.id;
  await send(server, { token: creator.token }, mine.id, 'hello');
  await server.ok(Link, { input: { fromThreadId: mine.id, toThreadId: theirs.id, kind: 'RELATES_TO' } }, { token: creator.token });
  await server.ok(Attach, { input: { threadId: mine.id, kvInstanceId: kvId } }, { token: creator.token });
});

const ids = (conn: { edges: { node: { id: string } }[] } | undefined | null) => conn?.edges.map((e) => e.node.id).sort();

describe('a thread creator unshared from its project', () => {
  it('reaches the whole project while shared', async () => {
    const { thread } = await server.ok(ThreadReach, { id: mine.id }, { token: creator.token });
    expect(thread!.project?.id).toBe(projectId);
    expect(ids(thread!.project?.threads)).toEqual([mine.id, theirs.id].sort());
    expect(ids(thread!.project?.kvInstances)).toEqual([kvId]);
  });

  it('keeps the thread, but reaches neither the project, its other threads nor its KV instances by any path', async () => {
    await server.ok(Unshare, { input: { projectId, userId: creator.id } }, { token: owner.token });
    const auth = { token: creator.token };

    // The thread itself: still theirs, with its project hidden (not an error), like its other links.
    const direct = await server.gql(ThreadReach, { id: mine.id }, auth);
    expect(direct.errors).toBeUndefined();
    expect(direct.data?.thread).toEqual({
      id: mine.id,
      project: null,
      relations: [],
      kvAttachments: [],
      messages: { edges: [{ node: { thread: { project: null } } }] },
    });
    // Through their thread list.
    const listed = await server.gql(MyThreads, {}, auth);
    expect(listed.errors).toBeUndefined();
    expect(listed.data?.me?.threads.edges.map((e) => e.node)).toEqual([{ id: mine.id, project: null }]);
    // Through node(id): the thread (project hidden); the project, the other thread and the KV instance not at all.
    const node = await server.gql(NodeReach, { id: mine.id }, auth);
    expect(node.errors).toBeUndefined();
    expect(node.data?.node).toEqual({ id: mine.id, project: null });
    for (const id of [projectId, theirs.id, kvId]) expect(await server.errorCode(NodeReach, { id }, auth)).toBe('NOT_FOUND');
    expect(await server.errorCode(ProjectQ, { id: projectId }, auth)).toBe('NOT_FOUND');
  });

  it('leaves a member who still holds a share every path', async () => {
    const auth = { token: keeper.token };
    const { thread } = await server.ok(ThreadReach, { id: theirs.id }, auth);
    expect(thread!.project?.id).toBe(projectId);
    expect(ids(thread!.project?.threads)).toEqual([mine.id, theirs.id].sort());
    expect(ids(thread!.project?.kvInstances)).toEqual([kvId]);
    // They see the creator's thread too, with its project (its relation to the owner's thread and the attachment).
    const other = await server.ok(ThreadReach, { id: mine.id }, auth);
    expect(other.thread!.project?.id).toBe(projectId);
    expect(other.thread!.relations).toEqual([{ from: { id: mine.id }, to: { id: theirs.id } }]);
    expect(other.thread!.kvAttachments).toEqual([{ kvInstance: { id: kvId } }]);
    const node = await server.ok(NodeReach, { id: projectId }, auth);
    expect(ids(node.node && 'threads' in node.node ? node.node.threads : null)).toEqual([mine.id, theirs.id].sort());
    expect(ids(node.node && 'kvInstances' in node.node ? node.node.kvInstances : null)).toEqual([kvId]);
    expect((await server.ok(NodeReach, { id: kvId }, auth)).node).toEqual({ id: kvId, name: 'notes' });
  });

  it('gets the project back with a new share', async () => {
    await server.ok(Share, { input: { projectId, userId: creator.id, access: 'READ' } }, { token: owner.token });
    const { thread } = await server.ok(ThreadReach, { id: mine.id }, { token: creator.token });
    expect(thread!.project?.id).toBe(projectId);
    expect(ids(thread!.project?.kvInstances)).toEqual([kvId]);
  });
});
