import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { startFakeOpenAI, FAKE_PNG, type FakeOpenAI } from './helpers/fake-openai.ts';
import { kvWorld, SetKey, type KvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Transform = graphql(`mutation KvAiTransform($input: TransformKvInput!) { transformKv(input: $input) { name value type version } }`);
const GenImage = graphql(`mutation KvAiGenImage($input: GenerateKvImageInput!) { generateKvImage(input: $input) { name value type contentType } }`);
const Analyze = graphql(`mutation KvAiAnalyze($input: AnalyzeKvImageInput!) { analyzeKvImage(input: $input) { name value type } }`);
const Version = graphql(`query KvAiVersion($id: ID!) { node(id: $id) { ... on KvInstance { version } } }`);
const Usage = graphql(`query KvAiUsage($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Org { usage(from: $from, to: $to) { messageCount promptTokens } } } }`);
const Events = graphql(`subscription KvAiEvents($kvInstanceId: ID!, $afterVersion: Int) { kvEvents(kvInstanceId: $kvInstanceId, afterVersion: $afterVersion) { __typename ... on KvKeyUpdated { version key { name value } } } }`);

const codeOf = (res: { errors?: readonly { extensions?: Record<string, unknown>; message: string }[] }) => res.errors?.[0]?.extensions?.code as string | undefined;

describe('AI over keys, offline (echo)', () => {
  let server: TestServer;
  let w: KvWorld;
  beforeAll(async () => {
    server = await startServer();
    w = await kvWorld(server);
    for (const [name, value] of [['a', 'Alice'], ['b', '{{a}}'], ['n', 42], ['tpl', 'Hi {{a}} and {{b}} ({{n}})'], ['instr', 'Be brief about {{a}}']] as const) {
      await server.ok(SetKey, { input: { kvInstanceId: w.instanceId, name, value } }, w.actors.owner);
    }
  });
  const version = async () => ((await server.ok(Version, { id: w.instanceId }, w.actors.owner)).node as { version: number }).version;

  it('resolves {{keys}} in one pass, writes the echo into outputKey and announces it live', async () => {
    const before = await version();
    const sub = subscribe(server.ws(w.actors.reader), Events, { kvInstanceId: w.instanceId, afterVersion: before });
    const { transformKv } = await server.ok(Transform, { input: { kvInstanceId: w.instanceId, template: 'Hi {{a}} and {{ b }} ({{n}})', prompt: 'Shout', outputKey: 'out' } }, w.actors.writer);
    expect(transformKv).toMatchObject({ name: 'out', value: 'Hi Alice and {{a}} (42)', type: 'TEXT', version: before + 1 });
    expect((await sub.next()).data!.kvEvents).toEqual({ __typename: 'KvKeyUpdated', version: before + 1, key: { name: 'out', value: 'Hi Alice and {{a}} (42)' } });
    const byKey = await server.ok(Transform, { input: { kvInstanceId: w.instanceId, templateKey: 'tpl', promptKey: 'instr', outputKey: 'out2' } }, w.actors.keyWrite);
    expect(byKey.transformKv.value).toBe('Hi Alice and {{a}} (42)');
  });

  it('refuses unknown keys, naming them, and bad sources, writing nothing', async () => {
    const before = await version();
    const res = await server.gql(Transform, { input: { kvInstanceId: w.instanceId, template: '{{a}} {{zz}} {{yy}} {{zz}}', outputKey: 'out' } }, w.actors.writer);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).toContain('zz, yy');
    const missing = [
      { template: 'x', templateKey: 'tpl' },
      {},
      { templateKey: 'nope' },
      { template: 'x', promptKey: 'nope' },
      { template: 'x', prompt: '{{nope}}' },
      { template: 'x', model: 'not-allowed' },
      { template: 'x', outputKey: '' },
    ];
    for (const m of missing) expect(codeOf(await server.gql(Transform, { input: { kvInstanceId: w.instanceId, outputKey: 'out', ...m } }, w.actors.writer))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql(Transform, { input: { kvInstanceId: w.instanceId, template: 'x', outputKey: 'o' } }, w.actors.reader))).toBe('FORBIDDEN');
    expect(codeOf(await server.gql(Transform, { input: { kvInstanceId: w.instanceId, template: 'x', outputKey: 'o' } }, w.actors.stranger))).toBe('NOT_FOUND');
    await server.ok(SetKey, { input: { kvInstanceId: w.instanceId, name: 'locked', value: 'x', readonly: true } }, w.actors.owner);
    expect(codeOf(await server.gql(Transform, { input: { kvInstanceId: w.instanceId, template: 'x', outputKey: 'locked' } }, w.actors.writer))).toBe('FORBIDDEN');
    expect(await version()).toBe(before + 1);
  });

  it('generates a small valid PNG and a fixed description offline', async () => {
    const { generateKvImage } = await server.ok(GenImage, { input: { kvInstanceId: w.instanceId, prompt: 'a cat named {{a}}', outputKey: 'pic' } }, w.actors.writer);
    expect(generateKvImage).toMatchObject({ name: 'pic', type: 'IMAGE', contentType: 'image/png' });
    const png = Buffer.from(generateKvImage.value as string, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const { analyzeKvImage } = await server.ok(Analyze, { input: { kvInstanceId: w.instanceId, imageKey: 'pic', outputKey: 'desc' } }, w.actors.writer);
    expect(analyzeKvImage).toEqual({ name: 'desc', type: 'TEXT', value: 'An image (described by the offline echo provider).' });
    expect(codeOf(await server.gql(Analyze, { input: { kvInstanceId: w.instanceId, imageKey: 'a', outputKey: 'desc' } }, w.actors.writer))).toBe('BAD_USER_INPUT');
    expect(codeOf(await server.gql(GenImage, { input: { kvInstanceId: w.instanceId, prompt: 'x', outputKey: 'p', model: 'dall-e-3' } }, w.actors.writer))).toBe('BAD_USER_INPUT');
  });

  it('counts each operation against the org like a chat message', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const usage = async () => ((await server.ok(Usage, { id: w.orgId, from: day, to: day }, w.actors.owner)).node as any).usage;
    const before = await usage();
    await server.ok(Transform, { input: { kvInstanceId: w.instanceId, template: 'one two three', outputKey: 'out' } }, w.actors.writer);
    const after = await usage();
    expect(after.messageCount).toBe(before.messageCount + 1);
    expect(after.promptTokens).toBeGreaterThan(before.promptTokens);
  });
});

describe('AI over keys through an OpenAI-compatible server', () => {
  let server: TestServer;
  let fake: FakeOpenAI;
  let w: KvWorld;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startServer({
      overrides: {
        models: { default: 'gpt-test', allowed: ['gpt-test'] },
        providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-server-test-key' } },
        kv: { imageModels: ['gpt-image-1'] },
      },
    });
    w = await kvWorld(server);
    await server.ok(SetKey, { input: { kvInstanceId: w.instanceId, name: 'a', value: 'Alice' } }, w.actors.owner);
  });

  it('sends the resolved template and prompt, and stores the reply', async () => {
    fake.behavior = { reply: ['Hello', ' Alice'] };
    fake.requests.length = 0;
    const { transformKv } = await server.ok(Transform, { input: { kvInstanceId: w.instanceId, template: 'Greet {{a}}', prompt: 'You greet {{a}}.', outputKey: 'greeting' } }, w.actors.writer);
    expect(transformKv.value).toBe('Hello Alice');
    expect(fake.requests[0].body.messages).toEqual([
      { role: 'system', content: 'You greet Alice.' },
      { role: 'user', content: 'Greet Alice' },
    ]);
    expect(fake.requests[0].authorization).toBe('Bearer sk-server-test-key');
  });

  it('generates and analyzes images, sending the image as a data URL', async () => {
    fake.behavior = { reply: ['A', ' small', ' dot'] };
    fake.requests.length = 0;
    const { generateKvImage } = await server.ok(GenImage, { input: { kvInstanceId: w.instanceId, prompt: 'a dot for {{a}}', outputKey: 'img' } }, w.actors.writer);
    expect(generateKvImage).toMatchObject({ value: FAKE_PNG, type: 'IMAGE', contentType: 'image/png' });
    expect(fake.requests[0]).toMatchObject({ path: '/v1/images/generations', body: { model: 'gpt-image-1', prompt: 'a dot for Alice' } });
    const { analyzeKvImage } = await server.ok(Analyze, { input: { kvInstanceId: w.instanceId, imageKey: 'img', prompt: 'What is it?', outputKey: 'what' } }, w.actors.writer);
    expect(analyzeKvImage.value).toBe('A small dot');
    expect(fake.requests[1].body.messages[0].content).toEqual([
      { type: 'text', text: 'What is it?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${FAKE_PNG}` } },
    ]);
  });

  it('reports provider failures clearly and writes nothing', async () => {
    const before = ((await server.ok(Version, { id: w.instanceId }, w.actors.owner)).node as { version: number }).version;
    fake.behavior = { status: 500 };
    for (const res of [
      await server.gql(Transform, { input: { kvInstanceId: w.instanceId, template: 'x', outputKey: 'fail1' } }, w.actors.writer),
      await server.gql(GenImage, { input: { kvInstanceId: w.instanceId, prompt: 'x', outputKey: 'fail2' } }, w.actors.writer),
      await server.gql(Analyze, { input: { kvInstanceId: w.instanceId, imageUrl: 'https://example.com/x.png', outputKey: 'fail3' } }, w.actors.writer),
    ]) {
      expect(codeOf(res)).toBe('PROVIDER_ERROR');
      expect(res.errors![0].message).toMatch(/Provider error 500/);
    }
    expect(((await server.ok(Version, { id: w.instanceId }, w.actors.owner)).node as { version: number }).version).toBe(before);
    fake.behavior = {};
  });
});
