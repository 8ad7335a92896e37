import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { rmSync } from 'node:fs';
import { createTestDatabase, testDbKind } from './helpers/db.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Search = graphql(`
  query SearchMessages($query: String!, $orgId: ID!, $first: Int, $after: String) {
    searchMessages(query: $query, orgId: $orgId, first: $first, after: $after) {
      edges {
        cursor score highlight
        node { __typename ... on ThreadMessage { id role content thread { id } } ... on RoomMessage { id text: content room { id } } }
      }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
`);
const SearchBack = graphql(`
  query SearchMessagesBack($query: String!, $orgId: ID!, $last: Int, $before: String) {
    searchMessages(query: $query, orgId: $orgId, last: $last, before: $before) {
      edges { node { ... on RoomMessage { id } } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }
`);
const CreateRoom = graphql(`mutation SearchCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const SendRoom = graphql(`mutation SearchSendRoom($input: SendMessageInput!) { sendMessage(input: $input) { id } }`);
const EditRoom = graphql(`mutation SearchEditRoom($input: EditMessageInput!) { editMessage(input: $input) { id } }`);
const DeleteRoom = graphql(`mutation SearchDeleteRoom($input: DeleteMessageInput!) { deleteMessage(input: $input) { deletedId } }`);
const CreateProject = graphql(`mutation SearchCreateProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const Share = graphql(`mutation SearchShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);

let server: TestServer;
let owner: TestUser;
let member: TestUser;
let orgId: string;
let privateThread: string;
let sharedThread: string;
beforeAll(async () => {
  server = await startServer();
  const o = await orgWithMembers(server, 1);
  [owner, member, orgId] = [o.owner, o.members[0], o.org.id];
  privateThread = (await createThread(server, owner.token, orgId, 'private')).id;
  await send(server, { token: owner.token }, privateThread, 'The quick brown fox jumps over the lazy dog');
  await send(server, { token: owner.token }, privateThread, 'fox hunting is cruel: fox after fox after fox');
  await send(server, { token: owner.token }, privateThread, 'Lazy cats sleep all day');
  const { createProject } = await server.ok(CreateProject, { input: { orgId, name: 'shared' } }, { token: owner.token });
  await server.ok(Share, { input: { projectId: createProject.id, userId: member.id, access: 'READ' } }, { token: owner.token });
  sharedThread = (await createThread(server, owner.token, orgId, 'shared', createProject.id)).id;
  await send(server, { token: owner.token }, sharedThread, 'a shared note about a Fox');
});

type Page = Awaited<ReturnType<typeof page>>;
const page = (query: string, auth: { token?: string; apiKey?: string } = { token: owner.token }, first?: number, after?: string) =>
  server.ok(Search, { query, orgId, first, after }, auth).then((r) => r.searchMessages);
/** The hits of a page as the tests read them: the kind of message, and the thread or room message. */
const hitsOf = (p: Page) =>
  p.edges.map(({ node, score, highlight }) => ({
    kind: node.__typename === 'RoomMessage' ? ('ROOM_MESSAGE' as const) : ('THREAD_MESSAGE' as const),
    score,
    highlight,
    message: node.__typename === 'RoomMessage' ? null : node,
    roomMessage: node.__typename === 'RoomMessage' ? node : null,
  }));
const search = async (query: string, token = owner.token, first?: number) => hitsOf(await page(query, { token }, first));
const hits = search;

describe('searchMessages', () => {
  it('ranks better matches first and highlights the words', async () => {
    const hits = await search('fox');
    expect(hits).toHaveLength(6); // three messages (two private, one shared), each with its echo reply
    expect(hits[0].message?.content).toMatch(/^fox hunting/);
    expect(hits[0].score).toBeGreaterThan(hits.at(-1)!.score);
    for (const h of hits) {
      expect(h.kind).toBe('THREAD_MESSAGE');
      expect(h.highlight.toLowerCase()).toContain('<mark>fox</mark>');
    }
  });

  it('needs every word, ignores case, and limits with first', async () => {
    const hits = await search('QUICK fox');
    expect(hits.map((h) => h.message?.content)).toEqual(['The quick brown fox jumps over the lazy dog', 'The quick brown fox jumps over the lazy dog']);
    expect(await search('lazy', owner.token, 1)).toHaveLength(1);
    expect(await search('nothing-matches-this')).toEqual([]);
  });

  it('treats query syntax as plain words', async () => {
    const hits = await search('fox" OR * NEAR(');
    expect(hits.length).toBe(0); // "or" and "near" are words that no message holds
    expect((await search('"fox"')).length).toBe(6);
    expect(await server.errorCode(Search, { query: ' *** ', orgId }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });

  it('returns only messages the viewer may read', async () => {
    const hits = await search('fox', member.token);
    expect(hits.map((h) => h.message?.thread?.id)).toEqual([sharedThread, sharedThread]);
    const outsider = await registerUser(server);
    expect(await server.errorCode(Search, { query: 'fox', orgId }, { token: outsider.token })).toBe('NOT_FOUND');
    const key = await createApiKey(server, owner, orgId, ['READ']);
    expect((await page('fox', { apiKey: key.key })).edges).toHaveLength(6);
    expect(privateThread).toBeTruthy();
  });
});

describe('searchMessages over rooms', () => {
  it('finds room messages in rooms the viewer is a member of, following edits and deletes', async () => {
    const shared = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'shared', memberIds: [member.id] } }, { token: owner.token })).createRoom;
    const alone = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'alone' } }, { token: owner.token })).createRoom;
    const inShared = (await server.ok(SendRoom, { input: { roomId: shared.id, content: 'a badger crossed the road' } }, { token: owner.token })).sendMessage;
    await server.ok(SendRoom, { input: { roomId: alone.id, content: 'my secret badger den' } }, { token: owner.token });

    const mine = await hits('badger', owner.token);
    expect(mine.map((h) => h.kind)).toEqual(['ROOM_MESSAGE', 'ROOM_MESSAGE']);
    expect(mine.every((h) => h.message === null && h.highlight.includes('<mark>badger</mark>'))).toBe(true);
    const theirs = await hits('badger', member.token);
    expect(theirs.map((h) => h.roomMessage)).toEqual([{ __typename: 'RoomMessage', id: inShared.id, text: 'a badger crossed the road', room: { id: shared.id } }]);

    await server.ok(EditRoom, { input: { messageId: inShared.id, content: 'an otter crossed the road' } }, { token: owner.token });
    expect(await hits('badger', member.token)).toEqual([]);
    expect((await hits('otter', member.token)).map((h) => h.roomMessage?.id)).toEqual([inShared.id]);
    await server.ok(DeleteRoom, { input: { messageId: inShared.id } }, { token: owner.token });
    expect(await hits('otter', member.token)).toEqual([]);

    const key = await createApiKey(server, owner, orgId, ['READ']);
    expect((await page('badger', { apiKey: key.key })).edges).toEqual([]);
  });

  it('ranks thread and room hits together', async () => {
    const room = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'mixed' } }, { token: owner.token })).createRoom;
    await server.ok(SendRoom, { input: { roomId: room.id, content: 'walrus walrus walrus' } }, { token: owner.token });
    await send(server, { token: owner.token }, privateThread, 'one walrus among many other words in a long sentence about nothing much');
    const kinds = (await hits('walrus', owner.token)).map((h) => h.kind);
    expect(kinds).toEqual(['ROOM_MESSAGE', 'THREAD_MESSAGE', 'THREAD_MESSAGE']);
  });
});

describe('searchMessages pages', () => {
  it('caps a page at 50 and pages on with stable cursors, without overlap or gap', async () => {
    const room = (await server.ok(CreateRoom, { input: { orgId, type: 'GROUP', name: 'ibis' } }, { token: owner.token })).createRoom;
    // Equal scores (ties are ordered by id) and better ones, so that order is more than one key.
    for (let i = 0; i < 52; i++) {
      await server.ok(SendRoom, { input: { roomId: room.id, content: i % 10 ? `ibis number ${i}` : `ibis ibis ${i}` } }, { token: owner.token });
    }
    const capped = await page('ibis', { token: owner.token }, 100);
    expect(capped.edges).toHaveLength(50);
    expect(capped.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const rest = await page('ibis', { token: owner.token }, 100, capped.pageInfo.endCursor!);
    expect(rest.edges).toHaveLength(2);
    expect(rest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const all = [...capped.edges, ...rest.edges];
    expect(new Set(all.map((e) => e.node.id)).size).toBe(52);
    const scores = all.map((e) => e.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    // Small pages walk the same list; asking again gives the same pages.
    const walked: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page('ibis', { token: owner.token }, 7, after);
      walked.push(...p.edges.map((e) => e.node.id));
      expect(p.edges.at(-1)?.cursor).toBe(p.pageInfo.endCursor);
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor!;
    }
    expect(walked).toEqual(all.map((e) => e.node.id));
    expect((await page('ibis', { token: owner.token }, 7, after)).edges.map((e) => e.node.id)).toEqual(walked.slice(49));

    // Backwards: the hits before a cursor.
    const back = (await server.ok(SearchBack, { query: 'ibis', orgId, last: 5, before: rest.edges[0].cursor }, { token: owner.token })).searchMessages;
    expect(back.edges.map((e) => (e.node as { id: string }).id)).toEqual(all.slice(45, 50).map((e) => e.node.id));
    expect(back.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true });

    expect(await server.errorCode(Search, { query: 'ibis', orgId, after: 'not-a-cursor' }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Search, { query: 'ibis', orgId, first: -1 }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });
});

// Runs last: it starts other servers, which take over the process-wide database client.
describe.skipIf(testDbKind() !== 'sqlite')('the SQLite index file', () => {
  it('is rebuilt from the messages when it is missing', async () => {
    await server.stop();
    const database = await createTestDatabase();
    const first = await startServer({ database });
    const o = await orgWithMembers(first);
    const t = await createThread(first, o.owner.token, o.org.id);
    await send(first, { token: o.owner.token }, t.id, 'remember the pelican');
    await first.stop();
    rmSync(`${database.url.slice('file:'.length)}.fts`);
    const second = await startServer({ database });
    const { searchMessages } = await second.ok(Search, { query: 'pelican', orgId: o.org.id }, { token: o.owner.token });
    expect(searchMessages.edges.map(({ node }) => (node.__typename === 'ThreadMessage' ? node.role : null))).toEqual(expect.arrayContaining(['USER', 'ASSISTANT']));
    expect(searchMessages.edges).toHaveLength(2);
    await second.stop();
    await database.drop();
  });
});
