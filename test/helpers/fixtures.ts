import { graphql } from '../gql/index.ts';
import type { TestServer } from './server.ts';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 5)}`;

export const PASSWORD = 'correct horse battery';

const Register = graphql(`
  mutation FixtureRegister($input: RegisterInput!) {
    register(input: $input) { accessToken refreshToken user { id email name } }
  }
`);
const CreateOrg = graphql(`
  mutation FixtureCreateOrg($input: CreateOrgInput!) {
    createOrg(input: $input) { id slug name }
  }
`);
const Invite = graphql(`
  mutation FixtureInvite($input: InviteMemberInput!) {
    inviteMember(input: $input) { token invite { id } }
  }
`);
const Accept = graphql(`
  mutation FixtureAccept($input: AcceptInviteInput!) {
    acceptInvite(input: $input) { id role }
  }
`);
const CreateKey = graphql(`
  mutation FixtureCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { key apiKey { id prefix scopes } }
  }
`);

export interface TestUser {
  id: string;
  email: string;
  name: string;
  token: string;
  refreshToken: string;
}

/** Registers a user with a unique email (or the one given). */
export async function registerUser(server: TestServer, opts: { email?: string; name?: string } = {}): Promise<TestUser> {
  const email = opts.email ?? `user-${unique()}@example.com`;
  const name = opts.name ?? 'Test User';
  const { register } = await server.ok(Register, { input: { email, password: PASSWORD, name } });
  return { id: register.user.id, email: register.user.email, name, token: register.accessToken, refreshToken: register.refreshToken };
}

/** Creates an org owned by `owner`. */
export async function createOrg(server: TestServer, owner: TestUser, name = 'Acme') {
  const { createOrg } = await server.ok(CreateOrg, { input: { name, slug: `org-${unique()}` } }, { token: owner.token });
  return createOrg;
}

/** Invites `user` into the org with `role` and accepts as them. */
export async function addMember(server: TestServer, orgId: string, admin: TestUser, user: TestUser, role: 'OWNER' | 'ADMIN' | 'MEMBER' = 'MEMBER') {
  const { inviteMember } = await server.ok(Invite, { input: { orgId, email: user.email, role } }, { token: admin.token });
  await server.ok(Accept, { input: { token: inviteMember.token } }, { token: user.token });
}

/** A new org with an owner and `members` extra members. */
export async function orgWithMembers(server: TestServer, members = 0) {
  const owner = await registerUser(server, { name: 'Owner' });
  const org = await createOrg(server, owner);
  const others: TestUser[] = [];
  for (let i = 0; i < members; i++) {
    const u = await registerUser(server, { name: `Member ${i + 1}` });
    await addMember(server, org.id, owner, u);
    others.push(u);
  }
  return { org, owner, members: others };
}

export async function createApiKey(server: TestServer, admin: TestUser, orgId: string, scopes: Array<'READ' | 'WRITE' | 'NOTIFY' | 'CHAT' | 'ACT_AS'> = ['READ']) {
  const { createApiKey } = await server.ok(CreateKey, { input: { orgId, name: `key-${unique()}`, scopes } }, { token: admin.token });
  return createApiKey;
}
