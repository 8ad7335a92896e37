import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { addMember, createOrg, registerUser } from './helpers/fixtures.ts';
import { fewestStatements, startServer, type TestServer } from './helpers/server.ts';

const Nested = graphql(`
  query QueriesNested {
    me {
      orgs(first: 10) {
        edges { node { id name members(first: 20) { totalCount edges { node { role user { id name } } } } } }
      }
    }
  }
`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ countQueries: true });
});

/** Statements one request runs, counted from Prisma's query log (N+1 shows up as growth). */
async function statementsFor(token: string) {
  const once = async () => {
    await server.countFrom();
    const data = await server.ok(Nested, {}, { token });
    const count = server.queries.filter((q) => !/^(?:BEGIN|COMMIT|PRAGMA)/i.test(q.trim())).length;
    return { data, count };
  };
  return fewestStatements(once, (r) => r.count);
}

describe('nested reads', () => {
  it('use a constant number of statements however many orgs and members there are', async () => {
    const viewer = await registerUser(server);
    const small = await statementsFor(viewer.token);
    for (let o = 0; o < 3; o++) {
      const owner = await registerUser(server);
      const org = await createOrg(server, owner);
      await addMember(server, org.id, owner, viewer);
      for (let m = 0; m < 3; m++) await addMember(server, org.id, owner, await registerUser(server));
    }
    const big = await statementsFor(viewer.token);
    expect(big.data.me?.orgs.edges).toHaveLength(3);
    expect(big.data.me?.orgs.edges[0].node.members.totalCount).toBe(5);
    // The user lookup for the token, the orgs, then members/counts/users batched per level.
    expect(big.count).toBeLessThanOrEqual(8);
    expect(big.count - small.count).toBeLessThanOrEqual(5);
  });
});

const RoomName = graphql(`query QueriesRoomName($id: ID!) { room(id: $id) { name } }`);
const CreateRoom = graphql(`mutation QueriesCreateRoom($input: CreateRoomInput!) { createRoom(input: $input) { id } }`);
const Send = graphql(`mutation QueriesSend($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`);

describe('simple operations (issue 19: the request path)', () => {
  /** Statements of one request with a credential already checked (the credential cache), BEGIN/COMMIT aside. */
  const statementsOf = (run: () => Promise<unknown>) =>
    fewestStatements(async () => {
      await run(); // the credential is checked here, and believed for the next request
      await server.countFrom();
      await run();
      // The webhook lookup of a published event runs after the response, batched across events: not the request's.
      const counted = server.queries.filter((q) => !/^(?:BEGIN|COMMIT|PRAGMA)/i.test(q.trim()) && !/FROM \S*[`"]Webhook[`"]/.test(q));
      if (process.env.SHOW_SQL) console.log(counted);
      return counted.length;
    }, (n) => n);

  it('`room(id) { name }` runs 1 statement (the membership with the room’s row); `sendMessage` 4', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const { createRoom } = await server.ok(CreateRoom, { input: { orgId: org.id, type: 'GROUP', name: 'counted' } }, { token: owner.token });
    expect(await statementsOf(() => server.ok(RoomName, { id: createRoom.id }, { token: owner.token }))).toBe(1);
    // Membership, the seq allocation, the insert, and the sender's read marker.
    expect(await statementsOf(() => server.ok(Send, { input: { roomId: createRoom.id, content: 'hi' } }, { token: owner.token }))).toBeLessThanOrEqual(4);
  });
});
