import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createGqlClient, subscribe, type GqlClient } from './helpers/client.ts';
import { createTestDatabase, type TestDatabase } from './helpers/db.ts';
import { orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { spawnServer, type ServerProcess } from './helpers/process.ts';
import type { TestServer } from './helpers/server.ts';

const CreateRoom = graphql(`
  mutation CompiledCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }
`);
const Send = graphql(`
  mutation CompiledSend($input: SendMessageInput!) { sendMessage(input: $input) { seq content author { id } } }
`);
const Events = graphql(`
  subscription CompiledEvents($roomId: ID!) {
    roomEvents(roomId: $roomId) { __typename ... on RoomMessageAdded { seq message { content } } }
  }
`);
const Node = graphql(`
  query CompiledNode($id: ID!) { node(id: $id) { __typename id } }
`);

// The other suites run the TypeScript sources; `npm start` runs the esbuild bundle (scripts/build.mjs, which
// `npm test` builds first). This runs the bundle as deployed (production mode) through the paths where a
// bundling mistake would show: migrations found from dist/, the schema and its rules, client error codes kept
// through the masking, live events over graphql-ws.
describe('the compiled server (npm start)', () => {
  let database: TestDatabase;
  let proc: ServerProcess;
  let client: GqlClient;

  beforeAll(async () => {
    database = await createTestDatabase();
    proc = await spawnServer({ DATABASE_URL: database.url, NODE_ENV: 'production', CONFAB_SECRET_KEY: 'compiled-test-secret-0123456789abcdef' }, { compiled: true });
    client = createGqlClient(`${proc.origin}/graphql`, `ws://127.0.0.1:${proc.port}/graphql`);
  }, 90_000);

  afterAll(async () => {
    if (proc?.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    }
    await database?.drop();
  });

  it('serves queries, mutations, errors with their codes and live events', async () => {
    const server = client as unknown as TestServer;
    const { org, owner, members } = await orgWithMembers(server, 1);
    const { createRoom } = await client.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'bundle', memberIds: [members[0].id] } }, { token: owner.token });
    const live = subscribe(client.ws({ token: members[0].token }), Events, { roomId: createRoom.id });
    await live.expectSilence(300);
    const { sendMessage } = await client.ok(Send, { input: { roomId: createRoom.id, content: 'from the bundle' } }, { token: owner.token });
    expect(sendMessage).toEqual({ seq: 1, content: 'from the bundle', author: { id: owner.id } });
    expect((await live.next(10_000)).data!.roomEvents).toEqual({ __typename: 'RoomMessageAdded', seq: 1, message: { content: 'from the bundle' } });
    live.close();

    // Client errors keep their codes in production: bad input, an outsider, no credentials.
    expect(await client.errorCode(Send, { input: { roomId: createRoom.id, content: '   ' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    const outsider = await registerUser(server);
    expect(await client.errorCode(Send, { input: { roomId: createRoom.id, content: 'x' } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await client.errorCode(Send, { input: { roomId: createRoom.id, content: 'x' } })).toBe('UNAUTHENTICATED');
    expect(await client.errorCode(Node, { id: createRoom.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect((await client.ok(Node, { id: createRoom.id }, { token: owner.token })).node).toEqual({ __typename: 'Room', id: createRoom.id });

    // Production defaults: no introspection.
    const introspection = await client.gql('{ __schema { queryType { name } } }', {}, { token: owner.token });
    expect(introspection.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
