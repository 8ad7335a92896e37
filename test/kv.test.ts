import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createInstance, expectedCode, kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Version = graphql(`query KvVersion($id: ID!) { node(id: $id) { ... on KvInstance { version keys(first: 100) { edges { node { name } } } } } }`);
const ProjectKv = graphql(`query KvProject($id: ID!) { project(id: $id) { kvInstances(first: 10) { edges { node { id name version } } } } }`);
const Key = graphql(`query KvKeyOne($id: ID!, $name: String!) { node(id: $id) { ... on KvInstance { key(name: $name) { name value version readonly type contentType } } } }`);
const Update = graphql(`mutation KvUpdate($input: UpdateKvInstanceInput!) { updateKvInstance(input: $input) { id name } }`);
const CreateInst = graphql(`mutation KvCreate($input: CreateKvInstanceInput!) { createKvInstance(input: $input) { id } }`);
const DeleteInst = graphql(`mutation KvDeleteInstance($input: DeleteKvInstanceInput!) { deleteKvInstance(input: $input) { deletedId } }`);
const DeleteKey = graphql(`mutation KvDeleteKey($input: DeleteKvKeyInput!) { deleteKvKey(input: $input) { version } }`);
const Clear = graphql(`mutation KvClear($input: ClearKvInstanceInput!) { clearKvInstance(input: $input) { version } }`);
const Events = graphql(`
  subscription KvEvents($kvInstanceId: ID!, $afterVersion: Int) {
    kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) {
      __typename
      ... on KvKeyUpdated { version key { name value } }
      ... on KvKeyDeleted { version name }
      ... on KvInstanceCleared { version }
    }
  }
`);

let server: TestServer;
let world: KvWorld;
const owner = () => world.actors.owner;
const version = async (id = world.instanceId) => ((await server.ok(Version, { id }, owner())).node as { version: number }).version;

beforeAll(async () => {
  server = await startServer({ overrides: { kv: { maxValueBytes: 1000, maxImageBytes: 3000 } } });
  world = await kvWorld(server);
});

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code as string | undefined;

describe('KV permissions for every field and mutation', () => {
  const actors = ['owner', 'admin', 'writer', 'reader', 'stranger', 'otherOrg', 'anonymous', 'keyRead', 'keyWrite', 'keyNotify', 'keyOtherOrg'];
  for (const actor of actors) {
    it(`${actor}`, async () => {
      const auth = world.actors[actor];
      const id = world.instanceId;
      await server.ok(SetKey, { input: { kvInstanceId: id, name: `k-${actor}`, value: 'v' } }, owner());
      const before = await version();
      const can = (need: 'READ' | 'WRITE' | 'ADMIN') => expectedCode(actor, need);

      const node = await server.gql(Key, { id, name: `k-${actor}` }, auth);
      if (can('READ')) expect(node.data?.node ?? null).toBeNull();
      else expect(node.data?.node).toMatchObject({ key: { name: `k-${actor}`, value: 'v' } });
      const project = await server.gql(ProjectKv, { id: world.projectId }, auth);
      expect(codeOf(project)).toBe(can('READ'));
      if (!can('READ')) expect(project.data!.project!.kvInstances.edges.map((e) => e.node.id)).toContain(id);

      const sub = subscribe(server.ws(auth), Events, { kvInstanceId: id, afterVersion: before - 1 });
      if (can('READ')) expect((await sub.rejection())?.extensions?.code).toBe(can('READ'));
      else expect(((await sub.next()).data!.kvEvents as { version: number }).version).toBe(before);
      sub.close();

      let refused = 0;
      const expectCode = async (res: Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>, need: 'READ' | 'WRITE' | 'ADMIN') => {
        expect(codeOf(await res)).toBe(can(need));
        if (can(need)) refused++;
      };
      await expectCode(server.gql(Update, { input: { kvInstanceId: id, name: 'main' } }, auth), 'WRITE');
      await expectCode(server.gql(SetKey, { input: { kvInstanceId: id, name: `w-${actor}`, value: 1 } }, auth), 'WRITE');
      await expectCode(server.gql(DeleteKey, { input: { kvInstanceId: id, name: `k-${actor}` } }, auth), 'WRITE');
      const created = await server.gql(CreateInst, { input: { projectId: world.projectId, name: actor } }, auth);
      expect(codeOf(created)).toBe(can('WRITE'));
      const spare = await createInstance(server, owner(), world.projectId, `spare-${actor}`);
      await server.ok(SetKey, { input: { kvInstanceId: spare, name: 'x', value: 'y' } }, owner());
      await expectCode(server.gql(Clear, { input: { kvInstanceId: spare } }, auth), 'ADMIN');
      await expectCode(server.gql(DeleteInst, { input: { kvInstanceId: spare } }, auth), 'ADMIN');
      // Refused operations change nothing.
      if (can('WRITE')) expect(await version()).toBe(before);
      if (can('ADMIN')) expect((await server.ok(Version, { id: spare }, owner())).node).toMatchObject({ version: 1, keys: { edges: [{ node: { name: 'x' } }] } });
      expect(refused).toBe(['WRITE', 'WRITE', 'WRITE', 'ADMIN', 'ADMIN'].filter((n) => can(n as 'WRITE')).length);
    });
  }

  it('refuses ids of the wrong type', async () => {
    const res = await server.gql(SetKey, { input: { kvInstanceId: world.projectId, name: 'a', value: 'b' } }, owner());
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
  });
});

describe('keys', () => {
  const set = (input: Record<string, unknown>, auth = owner()) => server.gql(SetKey, { input: { kvInstanceId: world.instanceId, ...input } as any }, auth);

  it('stores values by type, with flags and tags, and a version per change', async () => {
    const a = (await set({ name: 'doc', value: '# Hi', type: 'MARKDOWN', tags: ['SystemPrompt', 'x', 'x'], template: true })).data!.setKvKey;
    expect(a).toMatchObject({ name: 'doc', value: '# Hi', type: 'MARKDOWN', tags: ['SystemPrompt', 'x'], readonly: false });
    const b = (await set({ name: 'doc', value: '# Hello' })).data!.setKvKey;
    expect(b).toMatchObject({ type: 'MARKDOWN', tags: ['SystemPrompt', 'x'] });
    expect(b.version).toBe(a.version + 1);
    expect((await set({ name: 'cfg', value: { a: [1, 2] } })).data!.setKvKey).toMatchObject({ type: 'JSON', value: { a: [1, 2] } });
    const img = (await set({ name: 'pic', value: 'data:image/png;base64,iVBORw0KGgo=', type: 'IMAGE' })).data!.setKvKey;
    expect(img).toMatchObject({ type: 'IMAGE', contentType: 'image/png' });
  });

  it('refuses bad values with BAD_USER_INPUT and stores nothing', async () => {
    const before = await version();
    expect(codeOf(await set({ name: 'big', value: 'x'.repeat(1001) }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await set({ name: 'big', value: 'x'.repeat(2000), type: 'IMAGE', contentType: 'image/png' }))).toBeUndefined();
    expect(codeOf(await set({ name: 'big2', value: 'x'.repeat(3001), type: 'IMAGE', contentType: 'image/png' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await set({ name: 't', value: 5, type: 'TEXT' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await set({ name: 'i', value: 'AAAA', type: 'IMAGE' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await set({ name: ' ', value: 'x' }))).toBe('BAD_USER_INPUT');
    expect(await version()).toBe(before + 1);
  });

  it('lets only ADMINs change readonly keys and the readonly flag', async () => {
    const { writer, admin } = world.actors;
    expect(codeOf(await set({ name: 'ro', value: 'a', readonly: true }, writer))).toBe('FORBIDDEN');
    expect(codeOf(await set({ name: 'ro', value: 'a', readonly: true }, admin))).toBeUndefined();
    expect(codeOf(await set({ name: 'ro', value: 'b' }, writer))).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(DeleteKey, { input: { kvInstanceId: world.instanceId, name: 'ro' } }, writer))).toBe('FORBIDDEN');
    expect(codeOf(await set({ name: 'ro', value: 'c' }, world.actors.keyWrite))).toBe('FORBIDDEN');
    expect(codeOf(await set({ name: 'ro', value: 'd' }, admin))).toBeUndefined();
    expect((await server.ok(Key, { id: world.instanceId, name: 'ro' }, owner())).node).toMatchObject({ key: { value: 'd', readonly: true } });
  });

  it('compares and sets with ifVersion, and deletes with it', async () => {
    expect(codeOf(await set({ name: 'cas', value: 1, ifVersion: 0 }))).toBeUndefined();
    const v = ((await server.ok(Key, { id: world.instanceId, name: 'cas' }, owner())).node as any).key.version;
    expect(codeOf(await set({ name: 'cas', value: 2, ifVersion: 0 }))).toBe('CONFLICT');
    expect(codeOf(await set({ name: 'cas', value: 2, ifVersion: v }))).toBeUndefined();
    expect(codeOf(await set({ name: 'cas', value: 3, ifVersion: v }))).toBe('CONFLICT');
    expect(codeOf(await server.gql(DeleteKey, { input: { kvInstanceId: world.instanceId, name: 'cas', ifVersion: v } }, owner()))).toBe('CONFLICT');
    expect(codeOf(await server.gql(DeleteKey, { input: { kvInstanceId: world.instanceId, name: 'nope' } }, owner()))).toBe('NOT_FOUND');
  });

  it('lets exactly one of concurrent writers with the same ifVersion win', async () => {
    const first = (await set({ name: 'race', value: 0 })).data!.setKvKey.version;
    for (let round = 0, v = first; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => set({ name: 'race', value: i, ifVersion: v })));
      const won = results.filter((r) => !r.errors);
      expect(won).toHaveLength(1);
      expect(results.filter((r) => codeOf(r) === 'CONFLICT')).toHaveLength(7);
      v = won[0].data!.setKvKey.version;
      expect(((await server.ok(Key, { id: world.instanceId, name: 'race' }, owner())).node as any).key).toMatchObject({ version: v, value: won[0].data!.setKvKey.value });
    }
  });
});

const KeyIds = graphql(`
  query KvKeyIds($id: ID!, $name: String!) { node(id: $id) { ... on KvInstance { key(name: $name) { id } keys(first: 10) { totalCount edges { node { id name } } } } } }
`);
const KeyNode = graphql(`query KvKeyNode($id: ID!) { node(id: $id) { id ... on KvKey { name value version } } }`);
const DeleteKeyFull = graphql(`
  mutation KvDeleteKeyFull($input: DeleteKvKeyInput!) { deleteKvKey(input: $input) { deletedId version kvInstance { id version } } }
`);
const ClearFull = graphql(`
  mutation KvClearFull($input: ClearKvInstanceInput!) { clearKvInstance(input: $input) { version kvInstance { id version keys(first: 10) { totalCount edges { node { id } } } } } }
`);
const DeleteInstFull = graphql(`
  mutation KvDeleteInstanceFull($input: DeleteKvInstanceInput!) { deleteKvInstance(input: $input) { deletedId project { id kvInstances(first: 100) { totalCount edges { node { id } } } } } }
`);
const KeyPage = graphql(`
  query KvKeyPage($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $tag: String) {
    node(id: $id) { ... on KvInstance { keys(first: $first, after: $after, last: $last, before: $before, tag: $tag) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } } } }
  }
`);
const EventIds = graphql(`
  subscription KvEventIds($kvInstanceId: ID!, $afterVersion: Int) {
    kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) {
      __typename
      ... on KvKeyUpdated { version key { id name } }
      ... on KvKeyDeleted { version deletedId name }
      ... on KvInstanceCleared { version }
    }
  }
`);

describe('ids and results for client caches', () => {
  it('gives a key one global id everywhere (mutation, lists, events, node), also after it is deleted and set again', async () => {
    const id = await createInstance(server, owner(), world.projectId, 'ids');
    const sub = subscribe(server.ws(world.actors.reader), EventIds, { kvInstanceId: id, afterVersion: 0 });
    const set = (await server.ok(SetKey, { input: { kvInstanceId: id, name: 'a:b c', value: 'v' } }, world.actors.writer)).setKvKey;
    const listed = (await server.ok(KeyIds, { id, name: 'a:b c' }, owner())).node as any;
    expect(listed.key.id).toBe(set.id);
    expect(listed.keys).toEqual({ totalCount: 1, edges: [{ node: { id: set.id, name: 'a:b c' } }] });
    expect((await sub.next()).data!.kvEvents).toEqual({ __typename: 'KvKeyUpdated', version: 1, key: { id: set.id, name: 'a:b c' } });
    // Another instance's key of the same name has another id.
    const other = (await server.ok(SetKey, { input: { kvInstanceId: world.instanceId, name: 'a:b c', value: 'v' } }, owner())).setKvKey;
    expect(other.id).not.toBe(set.id);

    // node(id) answers the key to whoever may read the instance, and nothing to anyone else.
    expect((await server.ok(KeyNode, { id: set.id }, world.actors.reader)).node).toEqual({ id: set.id, name: 'a:b c', value: 'v', version: 1 });
    expect((await server.ok(KeyNode, { id: set.id }, world.actors.keyRead)).node).toMatchObject({ id: set.id });
    for (const who of ['stranger', 'otherOrg', 'keyOtherOrg']) expect((await server.gql(KeyNode, { id: set.id }, world.actors[who])).data?.node ?? null).toBeNull();

    const deleted = (await server.ok(DeleteKeyFull, { input: { kvInstanceId: id, name: 'a:b c' } }, world.actors.writer)).deleteKvKey;
    expect(deleted).toEqual({ deletedId: set.id, version: 2, kvInstance: { id, version: 2 } });
    expect((await sub.next()).data!.kvEvents).toEqual({ __typename: 'KvKeyDeleted', version: 2, deletedId: set.id, name: 'a:b c' });
    expect((await server.gql(KeyNode, { id: set.id }, owner())).data?.node ?? null).toBeNull();
    const instanceRaw = Buffer.from(id, 'base64').toString().split(':')[1];
    for (const raw of ['x', `${instanceRaw}:`, `${instanceRaw}:nope`, 'nope:a:b c']) {
      const res = await server.gql(KeyNode, { id: Buffer.from(`KvKey:${raw}`).toString('base64') }, owner());
      expect(res.data?.node ?? null).toBeNull();
      expect(res.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')).toBeFalsy();
    }
    const again = (await server.ok(SetKey, { input: { kvInstanceId: id, name: 'a:b c', value: 'w' } }, owner())).setKvKey;
    expect(again.id).toBe(set.id);
    sub.close();
  });

  it('answers clearKvInstance with the emptied instance, and deleteKvInstance with the deleted id and the project', async () => {
    const id = await createInstance(server, owner(), world.projectId, 'to-clear');
    await server.ok(SetKey, { input: { kvInstanceId: id, name: 'x', value: 1 } }, owner());
    await server.ok(SetKey, { input: { kvInstanceId: id, name: 'y', value: 2 } }, owner());
    expect((await server.ok(ClearFull, { input: { kvInstanceId: id } }, world.actors.admin)).clearKvInstance).toEqual({ version: 3, kvInstance: { id, version: 3, keys: { totalCount: 0, edges: [] } } });

    const { deleteKvInstance } = await server.ok(DeleteInstFull, { input: { kvInstanceId: id } }, world.actors.admin);
    expect(deleteKvInstance.deletedId).toBe(id);
    expect(deleteKvInstance.project.id).toBe(world.projectId);
    const left = deleteKvInstance.project.kvInstances;
    expect(left.edges.map((e) => e.node.id)).not.toContain(id);
    expect(left.edges.map((e) => e.node.id)).toContain(world.instanceId);
    expect(left.totalCount).toBe(left.edges.length);
    // Gone: a second delete is NOT_FOUND, and node(id) answers nothing.
    expect(codeOf(await server.gql(DeleteInstFull, { input: { kvInstanceId: id } }, world.actors.admin))).toBe('NOT_FOUND');
    expect((await server.gql(Version, { id }, owner())).data?.node ?? null).toBeNull();
  });

  it('refuses a kvInstanceId that is not a KvInstance id, naming the field, and changes nothing', async () => {
    const before = await version();
    for (const bad of [world.projectId, 'nonsense', (await server.ok(SetKey, { input: { kvInstanceId: world.instanceId, name: 'probe', value: 1 } }, owner())).setKvKey.id]) {
      const res = await server.gql(DeleteKeyFull, { input: { kvInstanceId: bad, name: 'probe' } }, owner());
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(res.errors)).toContain('kvInstanceId');
    }
    expect(await version()).toBe(before + 1);
  });

  it('pages through an instance\'s keys by name, forwards and backwards, with a tag filter and totalCount', async () => {
    const id = await createInstance(server, owner(), world.projectId, 'pages');
    const names = ['e', 'a', 'd', 'b', 'c', 'f'];
    for (const [i, name] of names.entries()) await server.ok(SetKey, { input: { kvInstanceId: id, name, value: i, tags: i % 2 ? ['odd'] : [] } }, owner());
    const page = async (vars: Record<string, unknown>) => {
      const res = await server.ok(KeyPage, { id, ...vars }, world.actors.reader);
      return (res.node as any).keys as { totalCount: number; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string; startCursor: string }; edges: { node: { name: string } }[] };
    };
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const p = await page({ first: 4, after });
      expect(p.totalCount).toBe(6);
      seen.push(...p.edges.map((e) => e.node.name));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const last = await page({ last: 2 });
    expect(last.edges.map((e) => e.node.name)).toEqual(['e', 'f']);
    expect((await page({ last: 2, before: last.pageInfo.startCursor })).edges.map((e) => e.node.name)).toEqual(['c', 'd']);
    const odd = await page({ first: 2, tag: 'odd' });
    expect(odd).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(odd.edges.map((e) => e.node.name)).toEqual(['a', 'b']);
    expect((await page({ first: 2, tag: 'odd', after: odd.pageInfo.endCursor })).edges.map((e) => e.node.name)).toEqual(['f']);
    // A cursor the list did not issue is refused.
    for (const bad of ['nope', Buffer.from('KvKeyCursor').toString('base64'), world.instanceId]) {
      expect(codeOf(await server.gql(KeyPage, { id, first: 2, after: bad }, owner()))).toBe('BAD_USER_INPUT');
    }
  });
});
