import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread } from './helpers/chat.ts';
import { addMember, createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { fewestStatements, startServer, type TestServer } from './helpers/server.ts';

/** Issue 8's nested read: threads × their latest messages × each message's author. */
const Nested = graphql(`
  query NestedThreadsMessagesAuthors($threads: Int!, $messages: Int!) {
    me {
      threads(first: $threads) {
        edges { node { id title messages(last: $messages) { edges { cursor node { id content metadata createdAt author { id name } } } } } }
      }
    }
  }
`);
const FirstPage = graphql(`
  query NestedFirstPage { me { threads(first: 20) { edges { node { title messages(first: 2) { pageInfo { hasNextPage hasPreviousPage } edges { node { content } } } } } } } }
`);
const Before = graphql(`
  query NestedBefore($id: ID!, $before: String!) {
    node(id: $id) { __typename ... on Thread { messages(last: 2, before: $before) { edges { node { content } } } } }
  }
`);
const CreateProject = graphql(`mutation NestedProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const Share = graphql(`mutation NestedShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const Richer = graphql(`
  query NestedRicher { me { threads(first: 2) { edges { node { id messages(last: 2) { edges { node { content metadata createdAt session { id } thread { id } author { name } } } } } } } } }
`);
const MessageTime = graphql(`query NestedMessageTime($id: ID!) { node(id: $id) { __typename ... on ThreadMessage { createdAt } } }`);
const MeTimes = graphql(`query NestedMeTimes { me { id user { createdAt } } }`);
const UserTimes = graphql(`query NestedUserTimes($id: ID!) { node(id: $id) { __typename ... on User { createdAt } } }`);
const Append = graphql(`
  mutation NestedAppend($input: AppendThreadMessageInput!) { appendThreadMessage(input: $input) { message { id } } }
`);

let server: TestServer;
let owner: TestUser;
let member: TestUser;
const THREADS = 4;
const MESSAGES = 6;

beforeAll(async () => {
  server = await startServer({ countQueries: true });
  owner = await registerUser(server, { name: 'Owner' });
  member = await registerUser(server, { name: 'Member' });
  const org = await createOrg(server, owner);
  await addMember(server, org.id, owner, member);
  // Threads of a project shared with the member for writing: two authors per thread.
  const project = (await server.ok(CreateProject, { input: { orgId: org.id, name: 'shared' } }, { token: owner.token })).createProject;
  await server.ok(Share, { input: { projectId: project.id, userId: member.id, access: 'WRITE' } }, { token: owner.token });
  for (let t = 0; t < THREADS; t++) {
    const thread = await createThread(server, owner.token, org.id, `thread ${t}`, project.id);
    for (let m = 0; m < MESSAGES; m++) {
      await server.ok(Append, { input: { threadId: thread.id, role: 'USER', content: `t${t} m${m}`, metadata: { n: m } } }, { token: m % 2 ? member.token : owner.token });
    }
  }
});

/** Statements one request runs, counted from Prisma's query log. */
async function statementsFor(token: string, threads: number, messages: number) {
  const once = async () => {
    await server.countFrom();
    const data = await server.ok(Nested, { threads, messages }, { token });
    const statements = server.queries.filter((q) => !/^(?:BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)/i.test(q.trim()));
    return { data, statements };
  };
  return fewestStatements(once, (r) => r.statements.length);
}

describe('threads × latest messages × authors', () => {
  it('runs in at most 3 statements whatever the page sizes', async () => {
    const small = await statementsFor(owner.token, 2, 2);
    const big = await statementsFor(owner.token, 20, 20);
    expect(small.data.me?.threads.edges).toHaveLength(2);
    expect(big.data.me?.threads.edges).toHaveLength(THREADS);
    expect(big.statements.length, big.statements.join('\n')).toBeLessThanOrEqual(3);
    expect(small.statements.length, small.statements.join('\n')).toBe(big.statements.length);
  });

  it('returns the latest messages of each thread, oldest first, with their authors', async () => {
    const { data } = await statementsFor(owner.token, 20, 3);
    for (const { node } of data.me!.threads.edges) {
      const t = /thread (\d+)/.exec(node.title)![1];
      expect(node.messages.edges.map((e) => e.node.content)).toEqual([3, 4, 5].map((m) => `t${t} m${m}`));
      expect(node.messages.edges.map((e) => e.node.author?.name)).toEqual(['Member', 'Owner', 'Member']);
      // Read by raw SQL, converted to what Prisma returns: JSON as values, times as DateTimes.
      expect(node.messages.edges.map((e) => e.node.metadata)).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }]);
      const times = node.messages.edges.map((e) => new Date(e.node.createdAt).getTime());
      expect(times.every((t, i) => t > Date.now() - 3_600_000 && (i === 0 || t >= times[i - 1]))).toBe(true);
    }
    const all = await statementsFor(owner.token, 20, 100);
    for (const { node } of all.data.me!.threads.edges) expect(node.messages.edges).toHaveLength(MESSAGES);
    const first = await server.ok(FirstPage, {}, { token: owner.token });
    for (const { node } of first.me!.threads.edges) {
      expect(node.messages.edges.map((e) => e.node.content)).toEqual([0, 1].map((m) => `${node.title.replace('thread ', 't')} m${m}`));
      expect(node.messages.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    }
  });

  it('reads times exactly as Prisma does, whatever the server’s time zone', async () => {
    // readRows gets PostgreSQL's `timestamp` as text: read as local time it would be off by the zone's offset.
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const { data } = await statementsFor(owner.token, 2, 3);
      const nested = data.me!.threads.edges.flatMap((e) => e.node.messages.edges.map((m) => m.node));
      expect(nested.length).toBe(6);
      for (const m of nested) {
        const { node } = await server.ok(MessageTime, { id: m.id }, { token: owner.token });
        expect(node?.__typename === 'ThreadMessage' && node.createdAt).toBe(m.createdAt);
      }
      // `me` without nesting reads its row the same way (src/db/rows.ts): the same times as Prisma's node(id).
      const { me } = await server.ok(MeTimes, {}, { token: owner.token });
      const { node } = await server.ok(UserTimes, { id: me!.id }, { token: owner.token });
      expect(node?.__typename === 'User' && node.createdAt).toBe(me!.user.createdAt);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it('serves other selections of messages too (other relations go to Prisma as before)', async () => {
    const data = await server.ok(Richer, {}, { token: owner.token });
    for (const { node } of data.me!.threads.edges) {
      expect(node.messages.edges).toHaveLength(2);
      for (const { node: m } of node.messages.edges) {
        expect(m.thread?.id).toBe(node.id);
        expect(m.session.id).toBeTruthy();
        expect(m.metadata).toEqual({ n: Number(/m(\d+)$/.exec(m.content)![1]) });
        expect(new Date(m.createdAt).getTime()).toBeGreaterThan(0);
      }
    }
  });

  it('keeps cursors working: the page before the latest continues where it ended', async () => {
    const latest = await server.ok(Nested, { threads: 1, messages: 2 }, { token: owner.token });
    const thread = latest.me!.threads.edges[0].node;
    const { node } = await server.ok(Before, { id: thread.id, before: thread.messages.edges[0].cursor }, { token: owner.token });
    const t = /thread (\d+)/.exec(thread.title)![1];
    expect(node?.__typename === 'Thread' && node.messages.edges.map((e) => e.node.content)).toEqual([`t${t} m2`, `t${t} m3`]);
  });

  it("shows no one else's threads: an outsider gets none", async () => {
    const outsider = await registerUser(server);
    await createOrg(server, outsider);
    const { data, statements } = await statementsFor(outsider.token, 20, 20);
    expect(data.me?.threads.edges).toEqual([]);
    expect(statements.length).toBeLessThanOrEqual(3);
  });
});
