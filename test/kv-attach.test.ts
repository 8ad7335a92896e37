import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { createInstance, kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Attach = graphql(`mutation KvAttach($input: AttachKvInstanceInput!) { attachKvInstance(input: $input) { id editMode kvInstance { id } thread { id } } }`);
const Detach = graphql(`mutation KvDetach($input: DetachKvInstanceInput!) { detachKvInstance(input: $input) { deletedId thread { id kvAttachments { kvInstance { id } } } } }`);
const AddContext = graphql(`mutation KvAttachContext($input: AddContextNodeInput!) { addContextNode(input: $input) { id } }`);
const AttachmentNode = graphql(`query KvAttachmentNode($id: ID!) { node(id: $id) { id ... on KvAttachment { editMode thread { id } kvInstance { id } } } }`);
const ThreadKv = graphql(`query KvAttachThread($id: ID!) { node(id: $id) { ... on Thread { kvAttachments { editMode kvInstance { id name } } } } }`);

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code as string | undefined;

describe('KV instances attached to threads', () => {
  let server: TestServer;
  let fake: FakeOpenAI;
  let w: KvWorld;
  let threadId: string;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startServer({ overrides: { models: { default: 'gpt-test', allowed: ['gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-test-key-1234' } } } });
    w = await kvWorld(server);
    threadId = (await createThread(server, w.owner.token, w.orgId, 'with kv', w.projectId)).id;
  });

  it('puts SystemPrompt keys of attached instances into the system prompt, by name, after the context tree', async () => {
    const set = (instanceId: string, name: string, value: unknown, tags: string[]) => server.ok(SetKey, { input: { kvInstanceId: instanceId, name, value, tags } }, w.actors.owner);
    await set(w.instanceId, 'zeta', 'Answer in French.', ['SystemPrompt']);
    await set(w.instanceId, 'alpha', { tone: 'dry' }, ['SystemPrompt', 'x']);
    await set(w.instanceId, 'other', 'not in the prompt', ['x']);
    const second = await createInstance(server, w.actors.owner, w.projectId, 'second');
    await set(second, 'beta', 'From the second instance.', ['SystemPrompt']);
    await server.ok(AddContext, { input: { threadId, kind: 'note', content: 'Context first.', tags: ['system-prompt'] } }, { token: w.owner.token });
    await server.ok(Attach, { input: { threadId, kvInstanceId: w.instanceId } }, w.actors.writer);
    await server.ok(Attach, { input: { threadId, kvInstanceId: second } }, w.actors.writer);

    fake.requests.length = 0;
    await send(server, { token: w.owner.token }, threadId, 'Hello');
    expect(fake.requests[0].body.messages[0]).toEqual({
      role: 'system',
      content: 'Context first.\n\nalpha: {"tone":"dry"}\nzeta: Answer in French.\nbeta: From the second instance.',
    });

    const { detachKvInstance } = await server.ok(Detach, { input: { threadId, kvInstanceId: second } }, w.actors.writer);
    expect(detachKvInstance.thread.kvAttachments.map((a) => a.kvInstance.id)).toEqual([w.instanceId]);
    fake.requests.length = 0;
    await send(server, { token: w.owner.token }, threadId, 'Again');
    expect(fake.requests[0].body.messages[0].content).toBe('Context first.\n\nalpha: {"tone":"dry"}\nzeta: Answer in French.');
  });

  it('needs WRITE on the thread, READ on the instance, ADMIN for edit mode, and one org', async () => {
    const input = (extra: Record<string, unknown> = {}) => ({ input: { threadId, kvInstanceId: w.instanceId, ...extra } });
    expect(codeOf(await server.gql(Attach, input(), w.actors.reader))).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(Attach, input(), w.actors.stranger))).toBe('NOT_FOUND');
    expect(codeOf(await server.gql(Attach, input(), w.actors.otherOrg))).toBe('NOT_FOUND');
    expect(codeOf(await server.gql(Attach, input(), {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await server.gql(Attach, input({ editMode: true }), w.actors.writer))).toBe('FORBIDDEN');
    expect((await server.ok(Attach, input({ editMode: true }), w.actors.admin)).attachKvInstance.editMode).toBe(true);
    expect(codeOf(await server.gql(Detach, input(), w.actors.reader))).toBe('FORBIDDEN');
    // An instance of another org cannot be attached even by someone who can see both.
    const other = await kvWorld(server);
    expect(codeOf(await server.gql(Attach, { input: { threadId, kvInstanceId: other.instanceId } }, w.actors.owner))).toBe('NOT_FOUND');
    // The attachment shows on the thread to those who may read the instance.
    const seen = await server.ok(ThreadKv, { id: threadId }, w.actors.reader);
    expect((seen.node as any).kvAttachments).toHaveLength(1);
  });

  it('gives an attachment one global id (attach, node, detach), readable by those who may read thread and instance', async () => {
    const thread = (await createThread(server, w.owner.token, w.orgId, 'ids', w.projectId)).id;
    const instance = await createInstance(server, w.actors.owner, w.projectId, 'attach-ids');
    const first = (await server.ok(Attach, { input: { threadId: thread, kvInstanceId: instance } }, w.actors.writer)).attachKvInstance;
    const again = (await server.ok(Attach, { input: { threadId: thread, kvInstanceId: instance, editMode: true } }, w.actors.admin)).attachKvInstance;
    expect(again).toMatchObject({ id: first.id, editMode: true });
    const seen = await server.ok(AttachmentNode, { id: first.id }, w.actors.reader);
    expect(seen.node).toEqual({ id: first.id, editMode: true, thread: { id: thread }, kvInstance: { id: instance } });
    for (const who of ['stranger', 'otherOrg', 'keyOtherOrg']) expect((await server.gql(AttachmentNode, { id: first.id }, w.actors[who])).data?.node ?? null).toBeNull();

    const { detachKvInstance } = await server.ok(Detach, { input: { threadId: thread, kvInstanceId: instance } }, w.actors.writer);
    expect(detachKvInstance).toEqual({ deletedId: first.id, thread: { id: thread, kvAttachments: [] } });
    expect((await server.gql(AttachmentNode, { id: first.id }, w.actors.owner)).data?.node ?? null).toBeNull();
    // Detaching what is not attached changes nothing and answers the same id.
    expect((await server.ok(Detach, { input: { threadId: thread, kvInstanceId: instance } }, w.actors.writer)).detachKvInstance.deletedId).toBe(first.id);
    // Malformed attachment ids answer nothing, like missing ones.
    for (const raw of ['x', '[1]', '["a"]', '["a","b"]', '{}']) {
      const res = await server.gql(AttachmentNode, { id: Buffer.from(`KvAttachment:${raw}`).toString('base64') }, w.actors.owner);
      expect(res.data?.node ?? null).toBeNull();
      expect(res.errors?.some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')).toBeFalsy();
    }
    // Ids of the wrong type are refused, naming the field.
    const bad = await server.gql(Detach, { input: { threadId: thread, kvInstanceId: thread } }, w.actors.writer);
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(bad.errors)).toContain('kvInstanceId');
  });
});
