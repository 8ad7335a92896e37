import { pino } from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { ChatSendDoc, createThread, send } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { addMember, createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startFakeOpenAI, type FakeOpenAI } from './helpers/fake-openai.ts';
import { createTestDatabase } from './helpers/db.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const AddKey = graphql(`
  mutation ProvidersAddKey($input: AddProviderKeyInput!) { addProviderKey(input: $input) { id provider last4 } }
`);
const RemoveKey = graphql(`mutation ProvidersRemoveKey($input: RemoveProviderKeyInput!) { removeProviderKey(input: $input) { deletedId } }`);
const Keys = graphql(`query ProvidersKeys($orgId: ID!) { providerKeys(orgId: $orgId) { id provider last4 } }`);
const Events = graphql(`
  subscription ProvidersEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) {
      __typename
      ... on AssistantDelta { delta index }
      ... on AssistantFailed { error reason message { status content } }
    }
  }
`);
const Cancel = graphql(`mutation ProvidersCancel($input: CancelGenerationInput!) { cancelGeneration(input: $input) { status } }`);
const AddCtx = graphql(`mutation ProvidersAddCtx($input: AddContextNodeInput!) { addContextNode(input: $input) { id } }`);
const Sessions = graphql(`query ProvidersSessions($id: ID!) { thread(id: $id) { sessions { edges { node { index summary } } } } }`);

const BYOK = 'sk-byok-0123456789abcdefWXYZ';
const logLines: string[] = [];
let fake: FakeOpenAI;
let server: TestServer;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  const sink = new Writable({ write: (chunk, _enc, cb) => (logLines.push(String(chunk)), cb()) });
  server = await startServer({
    logger: pino({ level: 'trace' }, sink),
    overrides: { models: { default: 'echo', allowed: ['echo', 'gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl } } },
  });
});
afterAll(async () => {
  await server.stop();
  await fake.close();
});

async function orgWithKey() {
  const o = await orgWithMembers(server, 1);
  const { addProviderKey } = await server.ok(AddKey, { input: { orgId: o.org.id, provider: 'openai', key: BYOK } }, { token: o.owner.token });
  return { ...o, keyId: addProviderKey.id };
}

describe('BYOK provider keys', () => {
  it('without a key the openai model is a clear error and nothing is stored', async () => {
    const o = await orgWithMembers(server);
    const t = await createThread(server, o.owner.token, o.org.id);
    const res = await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'hi', model: 'gpt-test' } }, { token: o.owner.token });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(res.errors?.[0].message).toMatch(/No API key for the openai provider/);
    expect(await db.message.count({ where: { threadId: idOfThread(t.id) } })).toBe(0);
  });

  it('stores the key encrypted, shows only its last 4 characters, and never logs it', async () => {
    const o = await orgWithKey();
    const { providerKeys } = await server.ok(Keys, { orgId: o.org.id }, { token: o.owner.token });
    expect(providerKeys).toEqual([{ id: o.keyId, provider: 'openai', last4: 'WXYZ' }]);
    const rows = await db.$queryRawUnsafe<unknown[]>('SELECT * FROM "ProviderKey"');
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(BYOK);
    expect(dump).not.toContain('0123456789abcdef');
    const t = await createThread(server, o.owner.token, o.org.id);
    await send(server, { token: o.owner.token }, t.id, 'hello', { model: 'gpt-test' });
    expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${BYOK}`);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain('0123456789abcdef');
  });

  it('only org admins manage keys; members and API keys cannot', async () => {
    const o = await orgWithKey();
    const member = o.members[0];
    expect(await server.errorCode(Keys, { orgId: o.org.id }, { token: member.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(AddKey, { input: { orgId: o.org.id, provider: 'openai', key: 'sk-member-000000' } }, { token: member.token })).toBe('FORBIDDEN');
    const apiKey = await createApiKey(server, o.owner, o.org.id, ['READ', 'WRITE', 'CHAT']);
    expect(await server.errorCode(AddKey, { input: { orgId: o.org.id, provider: 'openai', key: 'sk-bot-00000000' } }, { apiKey: apiKey.key })).toBe('FORBIDDEN');
    const outsider = await registerUser(server);
    expect(await server.errorCode(RemoveKey, { input: { providerKeyId: o.keyId } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(AddKey, { input: { orgId: o.org.id, provider: 'nope', key: 'sk-xxxxxxxxxx' } }, { token: o.owner.token })).toBe('BAD_USER_INPUT');
    expect((await server.ok(RemoveKey, { input: { providerKeyId: o.keyId } }, { token: o.owner.token })).removeProviderKey.deletedId).toBe(o.keyId);
    expect((await server.ok(Keys, { orgId: o.org.id }, { token: o.owner.token })).providerKeys).toEqual([]);
    expect(await server.errorCode(RemoveKey, { input: { providerKeyId: o.keyId } }, { token: o.owner.token })).toBe('NOT_FOUND');
  });

});

describe('the openai provider against a fake server', () => {
  it('streams the reply, stores the provider’s token counts, and sends system prompt contexts and history', async () => {
    fake.behavior = { reply: ['Hi', ' there', '!'], usage: { prompt_tokens: 42, completion_tokens: 3 }, delayMs: 30 };
    const o = await orgWithKey();
    const t = await createThread(server, o.owner.token, o.org.id);
    await server.ok(AddCtx, { input: { threadId: t.id, kind: 'rule', title: 'Persona', content: 'You are terse.', tags: ['system-prompt'] } }, { token: o.owner.token });
    await server.ok(AddCtx, { input: { threadId: t.id, kind: 'note', title: 'Private', content: 'not for the model' } }, { token: o.owner.token });
    await send(server, { token: o.owner.token }, t.id, 'first question', { model: 'gpt-test' });
    const sub = subscribe(server.ws({ token: o.owner.token }), Events, { threadId: t.id });
    await sub.expectSilence(100);
    const r = await send(server, { token: o.owner.token }, t.id, 'second question', { model: 'gpt-test' });
    expect(r.assistantMessage).toMatchObject({ status: 'COMPLETE', content: 'Hi there!', promptTokens: 42, completionTokens: 3, model: 'gpt-test' });
    const deltas: string[] = [];
    for (;;) {
      const e = (await sub.next()).data!.threadEvents;
      if (e.__typename === 'AssistantDelta') deltas.push(e.delta);
      if (e.__typename === 'AssistantDone') break;
    }
    expect(deltas).toEqual(['Hi', ' there', '!']);
    sub.close();
    const body = fake.requests.at(-1)!.body;
    expect(body).toMatchObject({ model: 'gpt-test', stream: true, stream_options: { include_usage: true } });
    expect(body.messages).toEqual([
      { role: 'system', content: 'Persona\nYou are terse.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'Hi there!' },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('a failure mid-stream leaves the user message and a FAILED reply holding what arrived', async () => {
    fake.behavior = { reply: ['one', ' two', ' three', ' four'], failAfterChunks: 2 };
    const o = await orgWithKey();
    const t = await createThread(server, o.owner.token, o.org.id);
    const sub = subscribe(server.ws({ token: o.owner.token }), Events, { threadId: t.id });
    await sub.expectSilence(100);
    const r = await send(server, { token: o.owner.token }, t.id, 'go', { model: 'gpt-test' });
    expect(r.userMessage.status).toBe('COMPLETE');
    expect(r.assistantMessage).toMatchObject({ status: 'FAILED', content: 'one two' });
    expect(r.assistantMessage.error).toMatch(/Provider error/);
    let e;
    do e = (await sub.next()).data!.threadEvents;
    while (e.__typename !== 'AssistantFailed');
    expect(e).toMatchObject({ reason: 'PROVIDER_ERROR', message: { status: 'FAILED', content: 'one two' } });
    sub.close();
  });

  it('an HTTP error from the provider is a FAILED reply naming the status, without the key', async () => {
    fake.behavior = { status: 500 };
    const o = await orgWithKey();
    const t = await createThread(server, o.owner.token, o.org.id);
    const r = await send(server, { token: o.owner.token }, t.id, 'go', { model: 'gpt-test' });
    expect(r.assistantMessage).toMatchObject({ status: 'FAILED', content: '' });
    expect(r.assistantMessage.error).toMatch(/Provider error 500/);
    expect(r.assistantMessage.error).not.toContain(BYOK);
  });

  it('cancels a slow stream', async () => {
    fake.behavior = { reply: Array.from({ length: 40 }, (_, i) => ` w${i}`), delayMs: 50 };
    const o = await orgWithKey();
    const t = await createThread(server, o.owner.token, o.org.id);
    const sub = subscribe(server.ws({ token: o.owner.token }), Events, { threadId: t.id });
    await sub.expectSilence(100);
    const pending = send(server, { token: o.owner.token }, t.id, 'go', { model: 'gpt-test' });
    let e;
    do e = (await sub.next()).data!.threadEvents;
    while (e.__typename !== 'AssistantDelta');
    const { assistantMessage } = await pendingAssistant(t.id);
    const { cancelGeneration } = await server.ok(Cancel, { input: { messageId: assistantMessage } }, { token: o.owner.token });
    expect(cancelGeneration.status).toBe('FAILED');
    const r = await pending;
    expect(r.assistantMessage.status).toBe('FAILED');
    expect(r.assistantMessage.error).toBe('Generation cancelled');
    sub.close();
  });

});

// The database client is process-wide: a second server takes it over, so these run last, one at a time.
describe('other configurations', () => {
  it('falls back to the server key from config, and the org key wins over it', async () => {
    const withServerKey = await startServer({
      overrides: { models: { allowed: ['gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-server-key-1234' } } },
    });
    const o = await orgWithMembers(withServerKey);
    const t = await createThread(withServerKey, o.owner.token, o.org.id);
    await send(withServerKey, { token: o.owner.token }, t.id, 'a', { model: 'gpt-test' });
    expect(fake.requests.at(-1)?.authorization).toBe('Bearer sk-server-key-1234');
    await withServerKey.ok(AddKey, { input: { orgId: o.org.id, provider: 'openai', key: BYOK } }, { token: o.owner.token });
    await send(withServerKey, { token: o.owner.token }, t.id, 'b', { model: 'gpt-test' });
    expect(fake.requests.at(-1)?.authorization).toBe(`Bearer ${BYOK}`);
    await withServerKey.stop();
  });
  it('sends only the most recent history that fits the history budget', async () => {
    const bounded = await startServer({
      overrides: { models: { allowed: ['gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-server-key-1234' } }, sessions: { historyBudget: 20 } },
    });
    fake.behavior = {};
    const o = await orgWithMembers(bounded);
    const t = await createThread(bounded, o.owner.token, o.org.id);
    for (const n of ['first', 'second', 'third']) await send(bounded, { token: o.owner.token }, t.id, `${n} alpha beta gamma`, { model: 'gpt-test' });
    // Newest first: "third…" (6 tokens), the reply before it (5), "second…" (6): 17 ≤ 20; the next reply would not fit.
    expect(fake.requests.at(-1)!.body.messages).toEqual([
      { role: 'user', content: 'second alpha beta gamma' },
      { role: 'assistant', content: 'Hello from the fake' },
      { role: 'user', content: 'third alpha beta gamma' },
    ]);
    await bounded.stop();
  });

  it('reports a key sealed under another server secret clearly', async () => {
    const database = await createTestDatabase();
    const openai = { baseUrl: fake.baseUrl };
    const first = await startServer({ database, overrides: { models: { allowed: ['gpt-test'] }, providers: { openai }, auth: { secretKey: 'first-secret-first-secret-first-secret' } } });
    const o = await orgWithMembers(first);
    await first.ok(AddKey, { input: { orgId: o.org.id, provider: 'openai', key: BYOK } }, { token: o.owner.token });
    const t = await createThread(first, o.owner.token, o.org.id);
    const bot = await createApiKey(first, o.owner, o.org.id, ['WRITE', 'CHAT']);
    await first.stop();
    const second = await startServer({ database, overrides: { models: { allowed: ['gpt-test'] }, providers: { openai }, auth: { secretKey: 'other-secret-other-secret-other-secret' } } });
    const res = await second.gql(ChatSendDoc, { input: { threadId: t.id, content: 'hi', model: 'gpt-test' } }, { apiKey: bot.key });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(res.errors?.[0].message).toMatch(/can no longer be read/);
    await second.stop();
    await database.drop();
  });

  it('asks the provider for the carried-over summary when the session rotates', async () => {
    const small = await startServer({
      overrides: { models: { allowed: ['gpt-test'] }, providers: { openai: { baseUrl: fake.baseUrl, apiKey: 'sk-server-key-1234' } }, sessions: { tokenBudget: 5 } },
    });
    fake.behavior = { reply: ['We', ' talked', ' about', ' cats.'] };
    const o = await orgWithMembers(small);
    const t = await createThread(small, o.owner.token, o.org.id);
    await send(small, { token: o.owner.token }, t.id, 'tell me about cats please', { model: 'gpt-test' });
    await send(small, { token: o.owner.token }, t.id, 'and dogs', { model: 'gpt-test' });
    const summaryCall = fake.requests.find((r) => r.body?.stream !== true && r.body?.messages?.[0]?.content?.startsWith('Summarize'));
    expect(summaryCall?.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'tell me about cats please' },
      { role: 'assistant', content: 'We talked about cats.' },
    ]);
    const { thread } = await small.ok(Sessions, { id: t.id }, { token: o.owner.token });
    expect(thread!.sessions.edges.map((e) => e.node)).toEqual([
      { index: 1, summary: null },
      { index: 2, summary: 'We talked about cats.' },
    ]);
    await small.stop();
  });
});

void addMember;

function idOfThread(globalId: string) {
  return Buffer.from(globalId, 'base64').toString().split(':')[1];
}

/** The assistant message being generated in a thread (read from the database the server writes). */
async function pendingAssistant(threadGlobalId: string) {
  const m = await db.message.findFirstOrThrow({ where: { threadId: idOfThread(threadGlobalId), role: 'ASSISTANT', status: 'STREAMING' } });
  return { assistantMessage: Buffer.from(`ThreadMessage:${m.id}`).toString('base64') };
}
