import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Attach = graphql(`mutation KvToolsAttach($input: AttachKvInstanceInput!) { attachKvInstance(input: $input) { editMode } }`);
const Key = graphql(`query KvToolsKey($id: ID!, $name: String!) { node(id: $id) { ... on KvInstance { key(name: $name) { name value version } } } }`);
const Meta = graphql(`query KvToolsMeta($id: ID!) { node(id: $id) { ... on ThreadMessage { metadata failureReason toolCalls { name arguments error } } } }`);
const Events = graphql(`subscription KvToolsEvents($kvInstanceId: ID!, $afterVersion: Int) { kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) { __typename ... on KvKeyUpdated { version key { name value } } } }`);

/** The tool results the model was sent in the request after the first, parsed. */
const toolResults = (fake: FakeOpenAI, request = 1) => fake.requests[request].body.messages.filter((m: any) => m.role === 'tool').map((m: any) => JSON.parse(m.content));

describe('KV tools for the assistant', () => {
  let server: TestServer;
  let fake: FakeOpenAI;
  let w: KvWorld;
  let threadId: string;
  const keyValue = async (name: string) => ((await server.ok(Key, { id: w.instanceId, name }, w.actors.owner)).node as any).key;
  const setKey = (name: string, value: unknown, extra: Record<string, unknown> = {}) => server.ok(SetKey, { input: { kvInstanceId: w.instanceId, name, value, ...extra } }, w.actors.owner);

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startServer({ overrides: { models: { default: 'gpt-test', allowed: ['gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-test-key-1234' } } } });
    w = await kvWorld(server);
    threadId = (await createThread(server, w.owner.token, w.orgId, 'with tools', w.projectId)).id;
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.behavior = {};
  });

  it('offers no tools without an attached instance; reads a key and answers with it', async () => {
    await send(server, w.actors.writer, threadId, 'Hi');
    expect(fake.requests[0].body.tools).toBeUndefined();

    await server.ok(Attach, { input: { threadId, kvInstanceId: w.instanceId } }, w.actors.writer);
    await setKey('color', 'blue');
    fake.requests.length = 0;
    fake.behavior.script = [{ toolCalls: [{ name: 'read_key', arguments: { name: 'color' } }] }, { reply: ['It is ', 'blue'] }];
    const reply = await send(server, w.actors.writer, threadId, 'What color?');
    expect(reply.assistantMessage).toMatchObject({ status: 'COMPLETE', content: 'It is blue' });
    expect(fake.requests[0].body.tools.map((t: any) => t.function.name)).toEqual(['read_key', 'list_keys', 'write_key', 'delete_key']);
    expect(fake.requests[1].body.messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_0_read_key', function: { name: 'read_key', arguments: '{"name":"color"}' } }] });
    expect(fake.requests[1].body.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_0_read_key' });
    expect(toolResults(fake)).toEqual([{ name: 'color', type: 'TEXT', value: 'blue', readonly: false, version: expect.any(Number) }]);
    const meta = await server.ok(Meta, { id: reply.assistantMessage.id }, w.actors.writer);
    // The tools the reply called are typed; metadata is the sender's own (none on a generated reply).
    expect(meta.node).toEqual({ metadata: null, failureReason: null, toolCalls: [{ name: 'read_key', arguments: { name: 'color' }, error: null }] });
  });

  it('writes a key, seen through the API and kvEvents', async () => {
    const before = ((await setKey('seed', 'x')) as any).setKvKey.version as number;
    const sub = subscribe(server.ws(w.actors.reader), Events, { kvInstanceId: w.instanceId, afterVersion: before });
    fake.behavior.script = [{ toolCalls: [{ name: 'write_key', arguments: { name: 'note', value: 'from the assistant' } }] }, { reply: ['Saved'] }];
    const reply = await send(server, w.actors.writer, threadId, 'Remember this');
    expect(reply.assistantMessage.content).toBe('Saved');
    expect(toolResults(fake)).toEqual([{ name: 'note', version: before + 1 }]);
    expect(await keyValue('note')).toEqual({ name: 'note', value: 'from the assistant', version: before + 1 });
    expect((await sub.next()).data!.kvEvents).toEqual({ __typename: 'KvKeyUpdated', version: before + 1, key: { name: 'note', value: 'from the assistant' } });
  });

  it('refuses readonly keys unless the thread is in edit mode, even for an ADMIN', async () => {
    await setKey('fixed', 'original', { readonly: true });
    const attempt = async (auth: { token?: string }) => {
      fake.requests.length = 0;
      fake.behavior.script = [{ toolCalls: [{ name: 'write_key', arguments: { name: 'fixed', value: 'changed' } }, { name: 'delete_key', arguments: { name: 'fixed' } }] }, { reply: ['Ok'] }];
      expect((await send(server, auth, threadId, 'Change it')).assistantMessage.status).toBe('COMPLETE');
      return toolResults(fake);
    };
    for (const auth of [w.actors.writer, w.actors.owner]) {
      expect(await attempt(auth)).toEqual([
        { error: expect.stringContaining('readonly'), code: 'FORBIDDEN' },
        { error: expect.stringContaining('readonly'), code: 'FORBIDDEN' },
      ]);
    }
    expect((await keyValue('fixed')).value).toBe('original');

    await server.ok(Attach, { input: { threadId, kvInstanceId: w.instanceId, editMode: true } }, w.actors.admin);
    const [written, deleted] = await attempt(w.actors.writer);
    expect(written).toEqual({ name: 'fixed', version: expect.any(Number) });
    expect(deleted).toEqual({ deleted: 'fixed', version: written.version + 1 });
    expect(await keyValue('fixed')).toBeNull();
    await server.ok(Attach, { input: { threadId, kvInstanceId: w.instanceId, editMode: false } }, w.actors.admin);
  });

  it('acts with the user’s rights: a READ share reads but cannot write through the assistant', async () => {
    const own = (await createThread(server, w.actors.reader.token!, w.orgId, 'reader thread')).id;
    await server.ok(Attach, { input: { threadId: own, kvInstanceId: w.instanceId } }, w.actors.reader);
    fake.behavior.script = [
      { toolCalls: [{ name: 'write_key', arguments: { name: 'color', value: 'red' } }, { name: 'delete_key', arguments: { name: 'color' } }, { name: 'read_key', arguments: { name: 'color' } }] },
      { reply: ['No'] },
    ];
    expect((await send(server, w.actors.reader, own, 'Paint it red')).assistantMessage.content).toBe('No');
    const [write, del, read] = toolResults(fake);
    expect([write.code, del.code]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(read).toMatchObject({ name: 'color', value: 'blue' });
    expect((await keyValue('color')).value).toBe('blue');
  });

  it('lists keys; bad calls go back to the model as errors', async () => {
    await setKey('tagged', 'v', { tags: ['t1'] });
    fake.behavior.script = [
      {
        toolCalls: [
          { name: 'list_keys', arguments: {} },
          { name: 'list_keys', arguments: { tag: 't1' } },
          { name: 'read_key', arguments: { name: 'missing' } },
          { name: 'read_key', arguments: { instance: 'nope', name: 'color' } },
          { name: 'launch_rockets', arguments: {} },
        ],
      },
      { reply: ['Listed'] },
    ];
    expect((await send(server, w.actors.writer, threadId, 'What is there?')).assistantMessage.content).toBe('Listed');
    const [all, tagged, missing, badInstance, unknown] = toolResults(fake);
    expect(all.keys.map((k: any) => k.name)).toEqual(expect.arrayContaining(['color', 'note', 'seed', 'tagged']));
    expect(all.keys.find((k: any) => k.name === 'color')).toEqual({ name: 'color', type: 'TEXT', readonly: false, tags: [], version: expect.any(Number) });
    expect(tagged.keys.map((k: any) => k.name)).toEqual(['tagged']);
    expect(missing.code).toBe('NOT_FOUND');
    expect(badInstance.code).toBe('NOT_FOUND');
    expect(unknown.code).toBe('BAD_USER_INPUT');
  });

  it('bounds the loop: after 5 tool rounds the model is asked without tools, and a reply still without text fails', async () => {
    fake.behavior.toolCalls = [{ name: 'read_key', arguments: { name: 'color' } }];
    const reply = await send(server, w.actors.writer, threadId, 'Loop forever');
    expect(fake.requests).toHaveLength(6);
    expect(fake.requests.slice(0, 5).every((r) => r.body.tools?.length === 4)).toBe(true);
    expect(fake.requests[5].body.tools).toBeUndefined();
    expect(reply.assistantMessage).toMatchObject({ status: 'FAILED', error: expect.stringContaining('kept asking for tools') });

    fake.requests.length = 0;
    fake.behavior = { toolCalls: [{ name: 'read_key', arguments: { name: 'color' } }], reply: ['Giving ', 'up'] };
    const answered = await send(server, w.actors.writer, threadId, 'Loop again');
    expect(fake.requests).toHaveLength(6);
    expect(answered.assistantMessage).toMatchObject({ status: 'COMPLETE' });
    expect(answered.assistantMessage.content).toMatch(/Giving up$/);
  });
});
