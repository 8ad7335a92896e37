import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { addMember, createOrg, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const CreateOrg = graphql(`
  mutation OrgsCreate($input: CreateOrgInput!) { createOrg(input: $input) { id name slug plan viewerRole } }
`);
const OrgQuery = graphql(`
  query OrgsOrg($id: ID!) {
    org(id: $id) { id name viewerRole members(first: 10) { totalCount edges { node { id role user { id email } } } } }
  }
`);
const MyOrgs = graphql(`
  query OrgsMine { me { orgs(first: 10) { edges { node { id slug } } } } }
`);
const Invite = graphql(`
  mutation OrgsInvite($input: InviteMemberInput!) { inviteMember(input: $input) { token invite { id email role status } } }
`);
const Accept = graphql(`
  mutation OrgsAccept($input: AcceptInviteInput!) { acceptInvite(input: $input) { role org { id } user { id } } }
`);
const UpdateRole = graphql(`
  mutation OrgsUpdateRole($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { role } }
`);
const Remove = graphql(`
  mutation OrgsRemove($input: RemoveMemberInput!) { removeMember(input: $input) { deletedId org { id members(first: 10) { totalCount } } } }
`);
const Invites = graphql(`
  query OrgsInvites($id: ID!) { org(id: $id) { invites(first: 10) { edges { node { email status createdBy { id } } } } } }
`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});

const as = (u: TestUser) => ({ token: u.token });

describe('createOrg', () => {
  it('makes the creator OWNER and lists the org under me.orgs', async () => {
    const owner = await registerUser(server);
    const { createOrg } = await server.ok(CreateOrg, { input: { name: 'Acme', slug: `acme-${Date.now()}` } }, as(owner));
    expect(createOrg).toMatchObject({ name: 'Acme', plan: 'FREE', viewerRole: 'OWNER' });
    const { me } = await server.ok(MyOrgs, {}, as(owner));
    expect(me?.orgs.edges.map((e) => e.node.id)).toEqual([createOrg.id]);
  });

  it('refuses a taken slug (CONFLICT), a bad slug (BAD_USER_INPUT) and anonymous callers', async () => {
    const owner = await registerUser(server);
    const slug = `taken-${Date.now()}`;
    await server.ok(CreateOrg, { input: { name: 'A', slug } }, as(owner));
    expect(await server.errorCode(CreateOrg, { input: { name: 'B', slug } }, as(owner))).toBe('CONFLICT');
    expect(await server.errorCode(CreateOrg, { input: { name: 'B', slug: 'Bad Slug!' } }, as(owner))).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(CreateOrg, { input: { name: 'B', slug: 'fine-slug' } })).toBe('UNAUTHENTICATED');
  });
});

describe('invites', () => {
  it('lets the invited user join with the invited role, once', async () => {
    const { org, owner } = await orgWithMembers(server);
    const invitee = await registerUser(server);
    const { inviteMember } = await server.ok(Invite, { input: { orgId: org.id, email: invitee.email.toUpperCase(), role: 'ADMIN' } }, as(owner));
    expect(inviteMember.invite).toMatchObject({ email: invitee.email, role: 'ADMIN', status: 'PENDING' });
    const { acceptInvite } = await server.ok(Accept, { input: { token: inviteMember.token } }, as(invitee));
    expect(acceptInvite).toMatchObject({ role: 'ADMIN', org: { id: org.id }, user: { id: invitee.id } });
    expect(await server.errorCode(Accept, { input: { token: inviteMember.token } }, as(invitee))).toBe('GONE');
    const { org: seen } = await server.ok(OrgQuery, { id: org.id }, as(invitee));
    expect(seen!.members.totalCount).toBe(2);
  });

  it('refuses acceptance by another user and leaves the invite pending', async () => {
    const { org, owner } = await orgWithMembers(server);
    const invitee = await registerUser(server);
    const intruder = await registerUser(server);
    const { inviteMember } = await server.ok(Invite, { input: { orgId: org.id, email: invitee.email, role: 'MEMBER' } }, as(owner));
    expect(await server.errorCode(Accept, { input: { token: inviteMember.token } }, as(intruder))).toBe('FORBIDDEN');
    expect(await server.errorCode(OrgQuery, { id: org.id }, as(intruder))).toBe('NOT_FOUND');
    const { org: o } = await server.ok(Invites, { id: org.id }, as(owner));
    expect(o!.invites.edges[0].node).toMatchObject({ status: 'PENDING', createdBy: { id: owner.id } });
    await server.ok(Accept, { input: { token: inviteMember.token } }, as(invitee));
  });

  it('refuses unknown tokens, and invites by plain members or of owners by admins', async () => {
    const { org, owner, members } = await orgWithMembers(server, 2);
    const [member, admin] = members;
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: admin.id, role: 'ADMIN' } }, as(owner));
    const email = 'someone@example.com';
    expect(await server.errorCode(Invite, { input: { orgId: org.id, email, role: 'MEMBER' } }, as(member))).toBe('FORBIDDEN');
    expect(await server.errorCode(Invite, { input: { orgId: org.id, email, role: 'OWNER' } }, as(admin))).toBe('FORBIDDEN');
    expect(await server.errorCode(Invite, { input: { orgId: org.id, email: 'nope', role: 'MEMBER' } }, as(admin))).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Invite, { input: { orgId: org.id, email: member.email, role: 'MEMBER' } }, as(admin))).toBe('CONFLICT');
    expect(await server.errorCode(Accept, { input: { token: 'cfi_unknown' } }, as(member))).toBe('NOT_FOUND');
    const { org: o } = await server.ok(Invites, { id: org.id }, as(owner));
    expect(o!.invites.edges.filter((e) => e.node.status === 'PENDING')).toHaveLength(0);
    expect(await server.errorCode(Invites, { id: org.id }, as(member))).toBe('FORBIDDEN');
  });
});

describe('roles and removal', () => {
  it('never loses the last owner', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    expect(await server.errorCode(UpdateRole, { input: { orgId: org.id, userId: owner.id, role: 'ADMIN' } }, as(owner))).toBe('CONFLICT');
    expect(await server.errorCode(Remove, { input: { orgId: org.id, userId: owner.id } }, as(owner))).toBe('CONFLICT');
    // With a second owner, the first may step down.
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: members[0].id, role: 'OWNER' } }, as(owner));
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: owner.id, role: 'MEMBER' } }, as(owner));
    expect(await server.errorCode(Remove, { input: { orgId: org.id, userId: members[0].id } }, as(members[0]))).toBe('CONFLICT');
  });

  it('keeps one owner when two owners demote each other at once', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const other = members[0];
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: other.id, role: 'OWNER' } }, as(owner));
    const results = await Promise.all([
      server.gql(UpdateRole, { input: { orgId: org.id, userId: other.id, role: 'MEMBER' } }, as(owner)),
      server.gql(UpdateRole, { input: { orgId: org.id, userId: owner.id, role: 'MEMBER' } }, as(other)),
    ]);
    const { org: o } = await server.ok(OrgQuery, { id: org.id }, as(owner)).catch(() => server.ok(OrgQuery, { id: org.id }, as(other)));
    const owners = o!.members.edges.filter((e) => e.node.role === 'OWNER');
    expect(owners).toHaveLength(1);
    // One wins; the other finds either no other owner left (CONFLICT) or itself no longer an owner (FORBIDDEN).
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(['CONFLICT', 'FORBIDDEN']).toContain(results.find((r) => r.errors)?.errors?.[0]?.extensions?.code);
  });

  it('lets admins remove members, members leave, and refuses members removing others', async () => {
    const { org, owner, members } = await orgWithMembers(server, 3);
    const [admin, a, b] = members;
    await server.ok(UpdateRole, { input: { orgId: org.id, userId: admin.id, role: 'ADMIN' } }, as(owner));
    expect(await server.errorCode(Remove, { input: { orgId: org.id, userId: b.id } }, as(a))).toBe('FORBIDDEN');
    expect(await server.errorCode(Remove, { input: { orgId: org.id, userId: owner.id } }, as(admin))).toBe('FORBIDDEN');
    expect(await server.errorCode(UpdateRole, { input: { orgId: org.id, userId: a.id, role: 'OWNER' } }, as(admin))).toBe('FORBIDDEN');
    const { org: before } = await server.ok(OrgQuery, { id: org.id }, as(owner));
    const membershipOf = (u: TestUser) => before!.members.edges.find((e) => e.node.user.id === u.id)!.node.id;
    const removed = await server.ok(Remove, { input: { orgId: org.id, userId: b.id } }, as(admin));
    // The removed membership's id, to evict, and the org without it.
    expect(removed.removeMember).toEqual({ deletedId: membershipOf(b), org: { id: org.id, members: { totalCount: 3 } } });
    expect(await server.errorCode(Remove, { input: { orgId: org.id, userId: b.id } }, as(admin))).toBe('NOT_FOUND');
    // Leaving: the org is no longer yours to see.
    expect((await server.ok(Remove, { input: { orgId: org.id, userId: a.id } }, as(a))).removeMember).toEqual({ deletedId: membershipOf(a), org: null });
    expect(await server.errorCode(OrgQuery, { id: org.id }, as(a))).toBe('NOT_FOUND');
    const { org: o } = await server.ok(OrgQuery, { id: org.id }, as(owner));
    expect(o!.members.totalCount).toBe(2);
  });

  it('refuses ids of the wrong type and outsiders', async () => {
    const { org, owner } = await orgWithMembers(server);
    const outsider = await registerUser(server);
    const otherOrg = await createOrg(server, outsider);
    expect(await server.errorCode(OrgQuery, { id: owner.id }, as(owner))).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(OrgQuery, { id: 'garbage' }, as(owner))).toBe('BAD_USER_INPUT');
    // Missing and hidden look the same: null there, NOT_FOUND.
    for (const id of [Buffer.from('Org:does-not-exist').toString('base64'), otherOrg.id]) {
      const res = await server.gql(OrgQuery, { id }, as(owner));
      expect(res.data?.org ?? null).toBeNull();
      expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['org'], 'NOT_FOUND']]);
    }
    expect(await server.errorCode(UpdateRole, { input: { orgId: org.id, userId: owner.id, role: 'MEMBER' } }, as(outsider))).toBe('NOT_FOUND');
    expect(await server.errorCode(Invite, { input: { orgId: otherOrg.id, email: 'x@example.com', role: 'MEMBER' } }, as(owner))).toBe('NOT_FOUND');
    await addMember(server, otherOrg.id, outsider, owner);
    const { org: seen } = await server.ok(OrgQuery, { id: otherOrg.id }, as(owner));
    expect(seen!.viewerRole).toBe('MEMBER');
  });
});
