import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens } from '../src/modules/chat/tokens.ts';
import { graphql } from './gql/index.ts';
import { createApiKey, orgWithMembers, type TestUser } from './helpers/fixtures.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Usage = graphql(`
  query OpenaiApiUsage($id: ID!, $from: Date!, $to: Date!) {
    org(id: $id) { usage(from: $from, to: $to) { usedToday promptTokens completionTokens records { edges { node { model messageCount } } } } }
  }
`);

let fake: FakeOpenAI;
let server: TestServer;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = await startServer({
    overrides: {
      plans: { free: 4 },
      models: { default: 'echo', allowed: ['echo', 'gpt-test'] },
      providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-server-0000' } },
    },
  });
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

async function chatOrg() {
  const o = await orgWithMembers(server);
  const key = await createApiKey(server, o.owner, o.org.id, ['CHAT']);
  const client = new OpenAI({ apiKey: key.key, baseURL: `${server.origin}/v1`, maxRetries: 0 });
  return { ...o, key: key.key, client };
}

const range = () => ({ from: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), to: new Date().toISOString().slice(0, 10) });

describe('OpenAI-compatible API with the official openai client', () => {
  it('lists the allowed models', async () => {
    const { client } = await chatOrg();
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['echo', 'gpt-test']);
  });

  it('answers without streaming, with usage', async () => {
    const { client } = await chatOrg();
    const res = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'hello there world' }] });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0].message).toMatchObject({ role: 'assistant', content: 'hello there world' });
    expect(res.choices[0].finish_reason).toBe('stop');
    expect(res.usage?.completion_tokens).toBe(estimateTokens('hello there world'));
    expect(res.usage?.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('streams chunks that concatenate to the reply, with a usage chunk when asked', async () => {
    const { client } = await chatOrg();
    const stream = await client.chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'one two three four five' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('one two three four five');
    expect(chunks).toBeGreaterThanOrEqual(7);
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(estimateTokens('one two three four five'));
  });

  it('proxies an OpenAI-compatible upstream, streamed and not', async () => {
    const { client } = await chatOrg();
    fake.behavior = { reply: ['Up', 'stream', '!'], usage: { prompt_tokens: 9, completion_tokens: 3 } };
    const whole = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, max_tokens: 50, stop: ['\n'] });
    expect(whole.choices[0].message.content).toBe('Upstream!');
    expect(fake.requests.at(-1)?.body).toMatchObject({ temperature: 0.2, max_tokens: 50, stop: ['\n'] });
    expect(whole.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Upstream!');
    expect(fake.requests.at(-1)?.authorization).toBe('Bearer sk-server-0000');
    fake.behavior = { status: 500 };
    await expect(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 502 });
    fake.behavior = {};
  });

  it('accepts X-API-Key and a user JWT (org from OpenAI-Organization or the first one)', async () => {
    const o = await chatOrg();
    const res = await fetch(`${server.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': o.key },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'via header' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as OpenAI.ChatCompletion).choices[0].message.content).toBe('via header');
    const jwtClient = new OpenAI({ apiKey: o.owner.token, baseURL: `${server.origin}/v1`, organization: o.org.id, maxRetries: 0 });
    expect((await jwtClient.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'as a user' }] })).choices[0].message.content).toBe('as a user');
    const other = await orgWithMembers(server);
    const foreign = new OpenAI({ apiKey: o.owner.token, baseURL: `${server.origin}/v1`, organization: other.org.id, maxRetries: 0 });
    await expect(foreign.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404 });
  });

  it('answers 401 in OpenAI’s error format without valid credentials', async () => {
    const bad = new OpenAI({ apiKey: 'cfk_not_a_real_key', baseURL: `${server.origin}/v1`, maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key', message: expect.any(String) });
    for (const path of ['/v1/chat/completions', '/v1/models']) {
      const res = await fetch(`${server.origin}${path}`, { method: path.endsWith('models') ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: path.endsWith('models') ? undefined : '{}' });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { message: expect.stringMatching(/API key/), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    }
  });

  it('refuses keys without the CHAT scope, unknown models and malformed bodies', async () => {
    const o = await orgWithMembers(server);
    const readOnly = await createApiKey(server, o.owner, o.org.id, ['READ']);
    const noChat = new OpenAI({ apiKey: readOnly.key, baseURL: `${server.origin}/v1`, maxRetries: 0 });
    await expect(noChat.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const { client } = await chatOrg();
    const unknown = await client.chat.completions.create({ model: 'gpt-unknown', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.error.code).toBe('model_not_found');
    await expect(client.chat.completions.create({ model: 'echo', messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('is metered like GraphQL chat: usage recorded, 429 past the daily quota', async () => {
    const o = await chatOrg();
    for (let i = 0; i < 4; i++) await o.client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `message ${i}` }] });
    const err = await o.client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'one more' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.message).toMatch(/FREE plan allows 4 messages a day/);
    const { org } = await server.ok(Usage, { id: o.org.id, ...range() }, { token: (o.owner as TestUser).token });
    expect(org!.usage!.usedToday).toBe(4);
    expect(org!.usage!.records.edges.map((e) => e.node)).toEqual([{ model: 'echo', messageCount: 4 }]);
    expect(org!.usage!.completionTokens).toBe(4 * estimateTokens('message 0'));
  });
});
