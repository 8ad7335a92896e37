import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

/** The errors' paths and codes (a lookup of something missing or hidden: one NOT_FOUND per null, at its path), in resolution order. */
const notFoundAt = (res: { errors?: readonly { path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] }) =>
  (res.errors ?? []).map((e) => [e.path?.join('.'), e.extensions?.code]);

const Node = graphql(`
  query NodesNode($id: ID!) { node(id: $id) { __typename id } }
`);
const Nodes = graphql(`
  query NodesNodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }
`);
const Ids = graphql(`
  query NodesIds($id: ID!) {
    org(id: $id) {
      members(first: 5) { edges { node { id } } }
      invites(first: 5) { edges { node { id } } }
      apiKeys(first: 5) { edges { node { id } } }
    }
  }
`);
const Invite = graphql(`mutation NodesInvite($input: InviteMemberInput!) { inviteMember(input: $input) { invite { id } } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});

/** An org with an owner, a member, a pending invite and an API key, and the global ids of each. */
async function world() {
  const { org, owner, members } = await orgWithMembers(server, 1);
  await server.ok(Invite, { input: { orgId: org.id, email: `p-${Date.now()}@example.com`, role: 'MEMBER' } }, { token: owner.token });
  const { apiKey } = await createApiKey(server, owner, org.id);
  const { org: o } = await server.ok(Ids, { id: org.id }, { token: owner.token });
  return {
    org,
    owner,
    member: members[0],
    ids: {
      Org: org.id,
      User: owner.id,
      OrgMember: o!.members.edges[0].node.id,
      Invite: o!.invites.edges.find((e) => e)!.node.id,
      ApiKey: apiKey.id,
    },
  };
}

describe('node(id) and nodes(ids)', () => {
  it('return what the viewer may see', async () => {
    const { owner, ids } = await world();
    for (const [typename, id] of Object.entries(ids)) {
      const { node } = await server.ok(Node, { id }, { token: owner.token });
      expect(node).toEqual({ __typename: typename, id });
    }
    const { nodes } = await server.ok(Nodes, { ids: Object.values(ids) }, { token: owner.token });
    expect(nodes.map((n) => n?.__typename)).toEqual(Object.keys(ids));
  });

  it('answer null and NOT_FOUND for every type across orgs (no IDOR), for anonymous callers, and for garbage ids', async () => {
    const { ids } = await world();
    const outsider = await orgWithMembers(server);
    const { key } = await createApiKey(server, outsider.owner, outsider.org.id, ['READ']);
    for (const auth of [{ token: outsider.owner.token }, { apiKey: key }, {}]) {
      for (const id of Object.values(ids)) {
        const res = await server.gql(Node, { id }, auth);
        expect(res.data?.node ?? null, `${id} via ${Object.keys(auth)}`).toBeNull();
        expect(notFoundAt(res), `${id} via ${Object.keys(auth)}`).toEqual([['node', 'NOT_FOUND']]);
      }
      const res = await server.gql(Nodes, { ids: Object.values(ids) }, auth);
      expect(res.data?.nodes).toEqual(Object.values(ids).map(() => null));
      expect(notFoundAt(res).sort()).toEqual(Object.values(ids).map((_, i) => [`nodes.${i}`, 'NOT_FOUND']));
    }
    const res = await server.gql(Node, { id: Buffer.from('Org:does-not-exist').toString('base64') }, { token: outsider.owner.token });
    expect(res.data?.node ?? null).toBeNull();
    expect(notFoundAt(res)).toEqual([['node', 'NOT_FOUND']]);
    // An id of no type at all is malformed, not a probe.
    expect(notFoundAt(await server.gql(Node, { id: Buffer.from('NoSuchType:1').toString('base64') }, { token: outsider.owner.token }))).toEqual([['node', 'BAD_USER_INPUT']]);
  });

  it('answer the other root fields of the same request', async () => {
    const { owner, ids } = await world();
    const stranger = await orgWithMembers(server);
    const res = await server.gql<any, any>(
      `query($mine: ID!, $theirs: ID!) { mine: org(id: $mine) { id } theirs: org(id: $theirs) { id } node(id: $theirs) { id } me { id } }`,
      { mine: ids.Org, theirs: stranger.org.id },
      { token: owner.token },
    );
    expect(res.data).toEqual({ mine: { id: ids.Org }, theirs: null, node: null, me: { id: owner.id } });
    expect(notFoundAt(res).sort()).toEqual([['node', 'NOT_FOUND'], ['theirs', 'NOT_FOUND']]);
  });

  it('hide admin-only nodes from plain members but show them the org and its people', async () => {
    const { member, ids } = await world();
    const seen = async (id: string) => (await server.ok(Node, { id }, { token: member.token })).node;
    expect(await seen(ids.Org)).not.toBeNull();
    expect(await seen(ids.User)).not.toBeNull();
    expect(await seen(ids.OrgMember)).not.toBeNull();
    const stranger = await registerUser(server);
    for (const id of [ids.Invite, ids.ApiKey, stranger.id]) {
      const res = await server.gql(Node, { id }, { token: member.token });
      expect(res.data?.node, id).toBeNull();
      expect(notFoundAt(res), id).toEqual([['node', 'NOT_FOUND']]);
    }
  });
});

describe('node(id) and nodes(ids) for records that do not exist', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const missing = ['User:1', 'Thread:-1', 'Room:99999999999999999999', 'Org:nope', 'ApiKey:x', 'Invoice:0'].map(b64);

  it('answer null and NOT_FOUND, not an internal error, signed in or not', async () => {
    const { owner, ids } = await world();
    for (const auth of [{ token: owner.token }, {}]) {
      for (const id of missing) {
        const res = await server.gql(Node, { id }, auth);
        expect(notFoundAt(res), id).toEqual([['node', 'NOT_FOUND']]);
        expect(res.data?.node, id).toBeNull();
      }
    }
    // One missing id does not null its neighbours: each position resolves on its own.
    const res = await server.gql(Nodes, { ids: [ids.Org, missing[0], ids.User, missing[1]] }, { token: owner.token });
    expect(notFoundAt(res).sort()).toEqual([['nodes.1', 'NOT_FOUND'], ['nodes.3', 'NOT_FOUND']]);
    expect(res.data?.nodes.map((n) => n?.__typename ?? null)).toEqual(['Org', null, 'User', null]);
  });
});
