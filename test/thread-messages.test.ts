import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createApiKey, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Append = graphql(`
  mutation TmAppend($input: AppendThreadMessageInput!) {
    appendThreadMessage(input: $input) { deduplicated message { id role status content metadata clientMsgId author { id } } }
  }
`);
const CreateWithFirst = graphql(`
  mutation TmCreate($input: CreateThreadInput!) {
    createThread(input: $input) { id messageCount firstMessage { role content metadata } currentSession { index } }
  }
`);
const ThreadQ = graphql(`
  query TmThread($id: ID!) { thread(id: $id) { messageCount messages { edges { node { role content } } } } }
`);
const Archive = graphql(`mutation TmArchive($input: UpdateThreadInput!) { updateThread(input: $input) { status } }`);
const Events = graphql(`
  subscription TmEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename ... on ThreadMessageAdded { message { content role } } } }
`);
const MyThreadCount = graphql(`query TmMine { me { threads(first: 100) { edges { node { id } } } } }`);
const OrgThreads = graphql(`
  query TmOrgThreads($id: ID!, $filter: OrgThreadFilterInput, $orderBy: ThreadOrderInput, $first: Int, $after: String) {
    org(id: $id) { threads(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
      edges { node { id title createdBy { id } } }
      pageInfo { hasNextPage endCursor }
    } }
  }
`);

let server: TestServer;
let owner: TestUser;
let member: TestUser;
let orgId: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 1);
  owner = o.owner;
  member = o.members[0];
  orgId = o.org.id;
});

const append = (auth: { token?: string; apiKey?: string }, input: Record<string, unknown>) => server.gql(Append, { input: input as never }, auth);

describe('appendThreadMessage', () => {
  it('stores each role as given, generates nothing, and announces ThreadMessageAdded', async () => {
    const t = await createThread(server, owner.token, orgId);
    const sub = subscribe(server.ws({ token: owner.token }), Events, { threadId: t.id });
    await sub.expectSilence(500); // lets the subscription start on a loaded machine
    const content = '  spaced\n content kept as-is  ';
    for (const role of ['SYSTEM', 'USER', 'ASSISTANT'] as const) {
      const r = await server.ok(Append, { input: { threadId: t.id, role, content: `${role}:${content}`, metadata: { by: 'my-model', n: 1 } } }, { token: owner.token });
      expect(r.appendThreadMessage).toMatchObject({ deduplicated: false, message: { role, status: 'COMPLETE', content: `${role}:${content}`, metadata: { by: 'my-model', n: 1 }, author: { id: owner.id } } });
      const e = (await sub.next()).data!.threadEvents;
      expect(e).toMatchObject({ __typename: 'ThreadMessageAdded', message: { role, content: `${role}:${content}` } });
    }
    await sub.expectSilence(200);
    const { thread } = await server.ok(ThreadQ, { id: t.id }, { token: owner.token });
    expect(thread!.messageCount).toBe(3);
    expect(thread!.messages.edges.map((e) => e.node.role)).toEqual(['SYSTEM', 'USER', 'ASSISTANT']);
    sub.close();
  });

  it('is idempotent on clientMsgId per author, also under concurrent retries', async () => {
    const t = await createThread(server, owner.token, orgId);
    const input = { threadId: t.id, role: 'USER', content: 'once', clientMsgId: 'c-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => append({ token: owner.token }, input)));
    const ids = new Set(results.map((r) => r.data!.appendThreadMessage.message.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.data!.appendThreadMessage.deduplicated).length).toBe(1);
    const again = await append({ token: owner.token }, { ...input, content: 'changed' });
    expect(again.data!.appendThreadMessage).toMatchObject({ deduplicated: true, message: { content: 'once' } });
    expect((await server.ok(ThreadQ, { id: t.id }, { token: owner.token })).thread!.messageCount).toBe(1);
  });

  it('refuses bad input and changes nothing', async () => {
    const t = await createThread(server, owner.token, orgId);
    const bad: [Record<string, unknown>, string][] = [
      [{ threadId: t.id, role: 'USER', content: '' }, 'BAD_USER_INPUT'],
      [{ threadId: t.id, role: 'USER', content: 'x'.repeat(32_001) }, 'BAD_USER_INPUT'],
      [{ threadId: t.id, role: 'USER', content: 'x', metadata: { big: 'y'.repeat(20_000) } }, 'BAD_USER_INPUT'],
      [{ threadId: t.id, role: 'USER', content: 'x', clientMsgId: 'z'.repeat(101) }, 'BAD_USER_INPUT'],
      [{ threadId: orgId, role: 'USER', content: 'x' }, 'BAD_USER_INPUT'],
      [{ threadId: 'nonsense', role: 'USER', content: 'x' }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of bad) expect(await server.errorCode(Append, { input: input as never }, { token: owner.token })).toBe(code);
    const tool = await append({ token: owner.token }, { threadId: t.id, role: 'TOOL', content: 'x' });
    expect(tool.errors?.length).toBe(1);
    await server.ok(Archive, { input: { threadId: t.id, status: 'ARCHIVED' } }, { token: owner.token });
    expect(await server.errorCode(Append, { input: { threadId: t.id, role: 'USER', content: 'x' } }, { token: owner.token })).toBe('CONFLICT');
    expect((await server.ok(ThreadQ, { id: t.id }, { token: owner.token })).thread!.messageCount).toBe(0);
  });

  it('needs WRITE on the thread: anonymous, outsiders, other orgs and READ keys are refused', async () => {
    const t = await createThread(server, owner.token, orgId);
    const outsider = await registerUser(server);
    const other = await orgWithMembers(server, 0);
    const readKey = await createApiKey(server, owner, orgId, ['READ']);
    const writeKey = await createApiKey(server, owner, orgId, ['WRITE']);
    const otherKey = await createApiKey(server, other.owner, other.org.id, ['WRITE']);
    const input = { threadId: t.id, role: 'USER' as const, content: 'hi' };
    expect(await server.errorCode(Append, { input })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Append, { input }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Append, { input }, { token: other.owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Append, { input }, { token: member.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Append, { input }, { apiKey: otherKey.key })).toBe('NOT_FOUND');
    expect(await server.errorCode(Append, { input }, { apiKey: readKey.key })).toBe('FORBIDDEN');
    expect((await server.ok(ThreadQ, { id: t.id }, { token: owner.token })).thread!.messageCount).toBe(0);
    const viaKey = await server.ok(Append, { input }, { apiKey: writeKey.key });
    expect(viaKey.appendThreadMessage.message.author?.id).toBe(owner.id);
  });
});

describe('createThread with firstMessage', () => {
  it('creates the thread, its first session and the message in one call', async () => {
    const { createThread: t } = await server.ok(
      CreateWithFirst,
      { input: { orgId, title: 'with first', firstMessage: { content: 'Hello, ORION!', metadata: { source: 'widget' } } } },
      { token: owner.token },
    );
    expect(t).toMatchObject({ messageCount: 1, firstMessage: { role: 'USER', content: 'Hello, ORION!', metadata: { source: 'widget' } }, currentSession: { index: 1 } });
    const next = await server.ok(Append, { input: { threadId: t.id, role: 'ASSISTANT', content: 'my own reply' } }, { token: owner.token });
    expect(next.appendThreadMessage.message.content).toBe('my own reply');
    expect((await server.ok(ThreadQ, { id: t.id }, { token: owner.token })).thread!.messageCount).toBe(2);
  });

  it('a bad first message leaves no thread behind', async () => {
    const before = (await server.ok(MyThreadCount, {}, { token: owner.token })).me!.threads.edges.length;
    for (const firstMessage of [{ content: '' }, { content: 'x', metadata: { big: 'y'.repeat(20_000) } }]) {
      expect(await server.errorCode(CreateWithFirst, { input: { orgId, title: 't', firstMessage } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    }
    expect((await server.ok(MyThreadCount, {}, { token: owner.token })).me!.threads.edges.length).toBe(before);
  });
});

describe('Org.threads', () => {
  it('lets org ADMINs list threads by author, in a date range, ordered and paged', async () => {
    const admin = await registerUser(server);
    const org = await createOrg(server, admin);
    const [ann, bob] = [await registerUser(server), await registerUser(server)];
    await addMember(server, org.id, admin, ann);
    await addMember(server, org.id, admin, bob);
    const annThreads = [];
    for (let i = 0; i < 3; i++) annThreads.push(await createThread(server, ann.token, org.id, `ann ${i}`));
    // Just after the last of Ann's first three, as stored (`to` is exclusive): the clock taken here could fall in
    // that thread's millisecond.
    const mid = new Date(Date.parse(String(annThreads[2].createdAt)) + 1).toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const late = await createThread(server, ann.token, org.id, 'ann late');
    await createThread(server, bob.token, org.id, 'bob');

    const all = await server.ok(OrgThreads, { id: org.id, filter: { authorId: ann.id }, orderBy: { field: 'CREATED_AT', direction: 'ASC' } }, { token: admin.token });
    expect(all.org!.threads.edges.map((e) => e.node.title)).toEqual(['ann 0', 'ann 1', 'ann 2', 'ann late']);
    expect(all.org!.threads.edges.every((e) => e.node.createdBy.id === ann.id)).toBe(true);

    const before = await server.ok(OrgThreads, { id: org.id, filter: { authorId: ann.id, to: mid } }, { token: admin.token });
    expect(before.org!.threads.edges.map((e) => e.node.id).sort()).toEqual(annThreads.map((t) => t.id).sort());
    const after = await server.ok(OrgThreads, { id: org.id, filter: { authorId: ann.id, from: mid } }, { token: admin.token });
    expect(after.org!.threads.edges.map((e) => e.node.id)).toEqual([late.id]);

    const page1 = await server.ok(OrgThreads, { id: org.id, first: 2, orderBy: { field: 'CREATED_AT', direction: 'DESC' } }, { token: admin.token });
    expect(page1.org!.threads.edges.map((e) => e.node.title)).toEqual(['bob', 'ann late']);
    const page2 = await server.ok(OrgThreads, { id: org.id, first: 10, after: page1.org!.threads.pageInfo.endCursor, orderBy: { field: 'CREATED_AT', direction: 'DESC' } }, { token: admin.token });
    expect(page2.org!.threads.edges.map((e) => e.node.title)).toEqual(['ann 2', 'ann 1', 'ann 0']);
    expect(page2.org!.threads.pageInfo.hasNextPage).toBe(false);

    // Members, API keys and other orgs' admins are refused; bad ids are bad input.
    const key = await createApiKey(server, admin, org.id, ['READ', 'WRITE']);
    const res = await server.gql(OrgThreads, { id: org.id }, { token: ann.token });
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(OrgThreads, { id: org.id }, { apiKey: key.key })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await server.errorCode(OrgThreads, { id: org.id }, { token: owner.token })).toBe('NOT_FOUND');
    expect((await server.gql(OrgThreads, { id: org.id, filter: { authorId: org.id } }, { token: admin.token })).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
