import { graphql } from '../gql/index.ts';
import { addMember, createApiKey, createOrg, registerUser, type TestUser } from './fixtures.ts';
import type { Auth } from './client.ts';
import type { TestServer } from './server.ts';

const CreateProject = graphql(`mutation KvHelperProject($input: CreateProjectInput!) { createProject(input: $input) { id } }`);
const Share = graphql(`mutation KvHelperShare($input: ShareProjectInput!) { shareProject(input: $input) { id } }`);
const CreateInstance = graphql(`mutation KvHelperInstance($input: CreateKvInstanceInput!) { createKvInstance(input: $input) { id version } }`);
export const SetKey = graphql(`
  mutation KvHelperSet($input: SetKvKeyInput!) { setKvKey(input: $input) { id name value type contentType readonly tags version updatedBy { id } } }
`);

/** Everyone a KV permission test needs, by the access they should end up with. */
export interface KvWorld {
  orgId: string;
  projectId: string;
  instanceId: string;
  owner: TestUser;
  actors: Record<string, Auth>;
}

/**
 * An org whose project is shared ADMIN/WRITE/READ with three members, a member without a share, a user
 * of another org, API keys with READ, WRITE and NOTIFY only, and a WRITE key of another org.
 */
export async function kvWorld(server: TestServer): Promise<KvWorld> {
  const owner = await registerUser(server, { name: 'Owner' });
  const org = await createOrg(server, owner);
  const users: Record<string, TestUser> = {};
  for (const name of ['admin', 'writer', 'reader', 'stranger']) {
    users[name] = await registerUser(server, { name });
    await addMember(server, org.id, owner, users[name]);
  }
  const { createProject } = await server.ok(CreateProject, { input: { orgId: org.id, name: 'kv' } }, { token: owner.token });
  for (const [name, access] of [['admin', 'ADMIN'], ['writer', 'WRITE'], ['reader', 'READ']] as const) {
    await server.ok(Share, { input: { projectId: createProject.id, userId: users[name].id, access } }, { token: owner.token });
  }
  const otherOwner = await registerUser(server, { name: 'Other' });
  const otherOrg = await createOrg(server, otherOwner, 'Other');
  const { createKvInstance } = await server.ok(CreateInstance, { input: { projectId: createProject.id, name: 'main' } }, { token: owner.token });
  return {
    orgId: org.id,
    projectId: createProject.id,
    instanceId: createKvInstance.id,
    owner,
    actors: {
      owner: { token: owner.token },
      admin: { token: users.admin.token },
      writer: { token: users.writer.token },
      reader: { token: users.reader.token },
      stranger: { token: users.stranger.token },
      otherOrg: { token: otherOwner.token },
      anonymous: {},
      keyRead: { apiKey: (await createApiKey(server, owner, org.id, ['READ'])).key },
      keyWrite: { apiKey: (await createApiKey(server, owner, org.id, ['WRITE'])).key },
      keyNotify: { apiKey: (await createApiKey(server, owner, org.id, ['NOTIFY'])).key },
      keyOtherOrg: { apiKey: (await createApiKey(server, otherOwner, otherOrg.id, ['READ', 'WRITE'])).key },
    },
  };
}

/** The error code each actor of kvWorld gets from an operation needing `need` (undefined: allowed). */
export function expectedCode(actor: string, need: 'READ' | 'WRITE' | 'ADMIN'): string | undefined {
  if (actor === 'anonymous') return 'UNAUTHENTICATED';
  if (['stranger', 'otherOrg', 'keyNotify', 'keyOtherOrg'].includes(actor)) return 'NOT_FOUND';
  const have = { owner: 3, admin: 3, writer: 2, keyWrite: 2, reader: 1, keyRead: 1 }[actor]!;
  return have >= { READ: 1, WRITE: 2, ADMIN: 3 }[need] ? undefined : 'FORBIDDEN';
}

export async function createInstance(server: TestServer, auth: Auth, projectId: string, name = 'extra') {
  return (await server.ok(CreateInstance, { input: { projectId, name } }, auth)).createKvInstance.id;
}
