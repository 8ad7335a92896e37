import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

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

  it('return null for every type across orgs (no IDOR), for anonymous callers, and for garbage ids', async () => {
    const { ids } = await world();
    const outsider = await orgWithMembers(server);
    const { key } = await createApiKey(server, outsider.owner, outsider.org.id, ['READ']);
    for (const auth of [{ token: outsider.owner.token }, { apiKey: key }, {}]) {
      for (const id of Object.values(ids)) {
        const res = await server.gql(Node, { id }, auth);
        expect(res.data?.node ?? null, `${id} via ${Object.keys(auth)}`).toBeNull();
      }
      const { nodes } = await server.ok(Nodes, { ids: Object.values(ids) }, auth);
      expect(nodes).toEqual(Object.values(ids).map(() => null));
    }
    const res = await server.gql(Node, { id: Buffer.from('Org:does-not-exist').toString('base64') }, { token: outsider.owner.token });
    expect(res.data?.node ?? null).toBeNull();
  });

  it('hide admin-only nodes from plain members but show them the org and its people', async () => {
    const { member, ids } = await world();
    const seen = async (id: string) => (await server.ok(Node, { id }, { token: member.token })).node;
    expect(await seen(ids.Org)).not.toBeNull();
    expect(await seen(ids.User)).not.toBeNull();
    expect(await seen(ids.OrgMember)).not.toBeNull();
    expect(await seen(ids.Invite)).toBeNull();
    expect(await seen(ids.ApiKey)).toBeNull();
    const stranger = await registerUser(server);
    expect((await server.ok(Node, { id: stranger.id }, { token: member.token })).node).toBeNull();
  });
});

describe('node(id) and nodes(ids) for records that do not exist', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const missing = ['User:1', 'Thread:-1', 'Room:99999999999999999999', 'Org:nope', 'ApiKey:x', 'Invoice:0'].map(b64);

  it('answer null, not an internal error, signed in or not', async () => {
    const { owner, ids } = await world();
    for (const auth of [{ token: owner.token }, {}]) {
      for (const id of missing) {
        const res = await server.gql(Node, { id }, auth);
        expect(res.errors, id).toBeUndefined();
        expect(res.data?.node, id).toBeNull();
      }
    }
    // One missing id does not null its neighbours: each position resolves on its own.
    const res = await server.gql(Nodes, { ids: [ids.Org, missing[0], ids.User, missing[1]] }, { token: owner.token });
    expect(res.errors).toBeUndefined();
    expect(res.data?.nodes.map((n) => n?.__typename ?? null)).toEqual(['Org', null, 'User', null]);
  });
});
