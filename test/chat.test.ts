import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send, ChatSendDoc } from './helpers/chat.ts';
import { subscribe, type LiveSubscription } from './helpers/client.ts';
import { createApiKey, orgWithMembers, registerUser, type TestUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Events = graphql(`
  subscription ChatThreadEvents($threadId: ID!) {
    threadEvents(threadId: $threadId) {
      __typename
      ... on ThreadMessageAdded { message { id role status content } }
      ... on AssistantDelta { messageId delta index }
      ... on AssistantDone { message { id status content completionTokens } }
      ... on AssistantFailed { messageId error reason message { status content } }
      ... on ThreadUpdated { thread { id } }
    }
  }
`);
const ThreadMessages = graphql(`
  query ChatThreadMessages($id: ID!) {
    thread(id: $id) {
      messageCount
      firstMessage { content }
      lastMessage { role content }
      messages(first: 50) { edges { node { role status content session { index } } } }
      sessions { edges { node { id index state summary } } }
      currentSession { index summary }
    }
  }
`);
const Cancel = graphql(`
  mutation ChatCancel($input: CancelGenerationInput!) {
    cancelGeneration(input: $input) { id status error failureReason toolCalls { name } metadata }
  }
`);
const DeleteThread = graphql(`mutation ChatDeleteThread($input: DeleteThreadInput!) { deleteThread(input: $input) { deletedId } }`);
const Models = graphql(`query ChatModels { models { id name provider isDefault } }`);
const NodeMessage = graphql(`query ChatNodeMessage($id: ID!) { node(id: $id) { id ... on ThreadMessage { content } } }`);
const Archive = graphql(`
  mutation ChatArchive($input: UpdateThreadInput!) { updateThread(input: $input) { id status } }
`);

/** The error code a refused subscription ends with (an error message, or one result carrying errors). */
async function refusal(sub: LiveSubscription<unknown>) {
  const ended = (await sub.ended) as { extensions?: { code?: string } }[] | undefined;
  return (ended ?? sub.received[0]?.errors)?.[0]?.extensions?.code;
}

let server: TestServer;
let owner: TestUser;
let orgId: string;
beforeAll(async () => {
  // Echo pauses between words longer than the delta interval, so each word is its own AssistantDelta.
  server = await startServer({ overrides: { models: { default: 'echo', allowed: ['echo', 'echo-2'] }, providers: { echo: { delayMs: 25 } } } });
  const o = await orgWithMembers(server);
  owner = o.owner;
  orgId = o.org.id;
});

/** Subscribes, and waits until the stream is live: a change to the thread (not a message) is heard. */
async function liveEvents(srv: TestServer, token: string, threadId: string) {
  const sub = subscribe(srv.ws({ token }), Events, { threadId });
  for (let i = 0; ; i++) {
    await srv.ok(Archive, { input: { threadId, metadata: { ping: i } } }, { token });
    const e = await sub.next(1000).catch((err) => (i < 10 ? undefined : Promise.reject(err)));
    if (e?.data?.threadEvents.__typename === 'ThreadUpdated') break;
  }
  // Pings heard late are skipped by the callers, which wait for the events they expect.
  return sub;
}

describe('sendThreadMessage with the echo provider', () => {
  it('streams deltas in order to a subscriber; they concatenate to the stored reply', async () => {
    const thread = await createThread(server, owner.token, orgId);
    const sub = await liveEvents(server, owner.token, thread.id);
    const text = 'the quick brown fox jumps over the lazy dog';
    const result = await send(server, { token: owner.token }, thread.id, text);
    expect(result.userMessage).toMatchObject({ role: 'USER', status: 'COMPLETE', content: text });
    expect(result.assistantMessage).toMatchObject({ role: 'ASSISTANT', status: 'COMPLETE', content: text, model: 'echo' });
    expect(result.assistantMessage.completionTokens).toBeGreaterThan(0);

    const events = [];
    for (;;) {
      const e = (await sub.next()).data!.threadEvents;
      if (e.__typename === 'ThreadUpdated') continue;
      events.push(e);
      if (e.__typename === 'AssistantDone') break;
    }
    expect(events.slice(0, 2).map((e) => e.__typename)).toEqual(['ThreadMessageAdded', 'ThreadMessageAdded']);
    const deltas = events.filter((e) => e.__typename === 'AssistantDelta') as { delta: string; index: number; messageId: string }[];
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    expect(deltas.length).toBe(9);
    expect(deltas.map((d) => d.delta).join('')).toBe(text);
    expect(new Set(deltas.map((d) => d.messageId))).toEqual(new Set([result.assistantMessage.id]));
    const done = events.at(-1) as { message: { id: string; status: string; content: string } };
    expect(done.message).toMatchObject({ id: result.assistantMessage.id, status: 'COMPLETE', content: text });
    sub.close();

    const { thread: t } = await server.ok(ThreadMessages, { id: thread.id }, { token: owner.token });
    expect(t!.messageCount).toBe(2);
    expect(t!.firstMessage?.content).toBe(text);
    expect(t!.lastMessage).toEqual({ role: 'ASSISTANT', content: text });
  });

  it('is idempotent per clientMsgId', async () => {
    const thread = await createThread(server, owner.token, orgId);
    const a = await send(server, { token: owner.token }, thread.id, 'hello once', { clientMsgId: 'c-1' });
    const b = await send(server, { token: owner.token }, thread.id, 'hello once', { clientMsgId: 'c-1' });
    expect(a.deduplicated).toBe(false);
    expect(b.deduplicated).toBe(true);
    expect(b.userMessage.id).toBe(a.userMessage.id);
    expect(b.assistantMessage.id).toBe(a.assistantMessage.id);
    const { thread: t } = await server.ok(ThreadMessages, { id: thread.id }, { token: owner.token });
    expect(t!.messageCount).toBe(2);
    expect(t!.messages.edges).toHaveLength(2);
  });

  it('refuses a model config does not allow, an empty message and an archived thread, storing nothing', async () => {
    const thread = await createThread(server, owner.token, orgId);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: 'x', model: 'gpt-nope' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: '   ' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    await server.ok(Archive, { input: { threadId: thread.id, status: 'ARCHIVED' } }, { token: owner.token });
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: 'x' } }, { token: owner.token })).toBe('CONFLICT');
    const { thread: t } = await server.ok(ThreadMessages, { id: thread.id }, { token: owner.token });
    expect(t!.messageCount).toBe(0);
    expect(t!.sessions.edges).toHaveLength(0);
  });

  it('uses the model asked for, and lists the allowed models with the default first', async () => {
    const thread = await createThread(server, owner.token, orgId);
    const r = await send(server, { token: owner.token }, thread.id, 'hi', { model: 'echo-2' });
    expect(r.assistantMessage.model).toBe('echo-2');
    const { models } = await server.ok(Models, {}, { token: owner.token });
    expect(models).toEqual([
      { id: Buffer.from('Model:echo').toString('base64'), name: 'echo', provider: 'echo', isDefault: true },
      { id: Buffer.from('Model:echo-2').toString('base64'), name: 'echo-2', provider: 'echo', isDefault: false },
    ]);
    // Global ids, one per model: a client cache keeps each model once.
    expect(new Set(models.map((m) => m.id)).size).toBe(2);
    expect(Buffer.from(models[0].id, 'base64').toString()).toBe('Model:echo');
    expect(await server.errorCode(Models, {})).toBe('UNAUTHENTICATED');
  });
});

describe('authorization', () => {
  it('keeps outsiders out of every route: send, subscribe, node, cancel', async () => {
    const thread = await createThread(server, owner.token, orgId);
    const r = await send(server, { token: owner.token }, thread.id, 'secret words');
    const outsider = await registerUser(server);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: 'x' } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(ThreadMessages, { id: thread.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Cancel, { input: { messageId: r.assistantMessage.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(NodeMessage, { id: r.assistantMessage.id }, { token: outsider.token })).toBe('NOT_FOUND');
    const { node: mine } = await server.ok(NodeMessage, { id: r.assistantMessage.id }, { token: owner.token });
    expect(mine).toMatchObject({ content: 'secret words' });
    const sub = subscribe(server.ws({ token: outsider.token }), Events, { threadId: thread.id });
    expect(await refusal(sub)).toBe('NOT_FOUND');
    expect(await refusal(subscribe(server.ws(), Events, { threadId: thread.id }))).toBe('UNAUTHENTICATED');
  });

  it('a member does not see a colleague’s thread outside projects', async () => {
    const o = await orgWithMembers(server, 1);
    const thread = await createThread(server, o.owner.token, o.org.id);
    expect(await server.errorCode(ThreadMessages, { id: thread.id }, { token: o.members[0].token })).toBe('NOT_FOUND');
  });

  it('lets an API key chat only with the CHAT scope, in its own org', async () => {
    const thread = await createThread(server, owner.token, orgId);
    const readOnly = await createApiKey(server, owner, orgId, ['READ', 'WRITE']);
    const chat = await createApiKey(server, owner, orgId, ['READ', 'WRITE', 'CHAT']);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: 'x' } }, { apiKey: readOnly.key })).toBe('FORBIDDEN');
    const r = await send(server, { apiKey: chat.key }, thread.id, 'from a bot');
    expect(r.assistantMessage.content).toBe('from a bot');
    const other = await orgWithMembers(server);
    const foreign = await createApiKey(server, other.owner, other.org.id, ['READ', 'WRITE', 'CHAT']);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: thread.id, content: 'x' } }, { apiKey: foreign.key })).toBe('NOT_FOUND');
  });
});

describe('a fast provider', () => {
  it('is coalesced into fewer deltas that still concatenate to the reply in order', async () => {
    const fast = await startServer();
    const o = await orgWithMembers(fast);
    const thread = await createThread(fast, o.owner.token, o.org.id);
    const sub = await liveEvents(fast, o.owner.token, thread.id);
    const text = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const result = await send(fast, { token: o.owner.token }, thread.id, text);
    expect(result.assistantMessage.content).toBe(text);
    const deltas: { delta: string; index: number }[] = [];
    for (;;) {
      const e = (await sub.next()).data!.threadEvents;
      if (e.__typename === 'AssistantDelta') deltas.push(e);
      if (e.__typename === 'AssistantDone') break;
    }
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_, i) => i));
    expect(deltas.map((d) => d.delta).join('')).toBe(text);
    expect(deltas.length).toBeLessThan(100);
    await fast.stop();
  });
});

describe('cancellation', () => {
  it('stops a reply mid-stream: the user message stays, the reply is FAILED and never COMPLETE', async () => {
    const slow = await startServer({ overrides: { providers: { echo: { delayMs: 40 } } } });
    const o = await orgWithMembers(slow);
    const thread = await createThread(slow, o.owner.token, o.org.id);
    const sub = await liveEvents(slow, o.owner.token, thread.id);
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const pending = send(slow, { token: o.owner.token }, thread.id, words);
    let first;
    do first = (await sub.next()).data!.threadEvents;
    while (first.__typename !== 'AssistantDelta');
    const messageId = (first as { messageId: string }).messageId;
    const { cancelGeneration } = await slow.ok(Cancel, { input: { messageId } }, { token: o.owner.token });
    expect(cancelGeneration).toMatchObject({ id: messageId, status: 'FAILED', error: 'Generation cancelled', failureReason: 'CANCELLED', toolCalls: [], metadata: null });
    const result = await pending;
    expect(result.userMessage.status).toBe('COMPLETE');
    expect(result.assistantMessage.status).toBe('FAILED');
    expect(words.startsWith(result.assistantMessage.content)).toBe(true);
    expect(result.assistantMessage.content.length).toBeLessThan(words.length);
    let e;
    do e = (await sub.next()).data!.threadEvents;
    while (e.__typename === 'AssistantDelta');
    expect(e).toMatchObject({ __typename: 'AssistantFailed', messageId, reason: 'CANCELLED', message: { status: 'FAILED' } });
    // Cancelling an ended reply changes nothing.
    const again = await slow.ok(Cancel, { input: { messageId } }, { token: o.owner.token });
    expect(again.cancelGeneration.status).toBe('FAILED');

    // Deleting the thread while its reply streams: the send ends with GONE.
    const doomed = await createThread(slow, o.owner.token, o.org.id);
    const sub2 = await liveEvents(slow, o.owner.token, doomed.id);
    const sending = slow.gql(ChatSendDoc, { input: { threadId: doomed.id, content: words } }, { token: o.owner.token });
    do e = (await sub2.next()).data!.threadEvents;
    while (e.__typename !== 'AssistantDelta');
    await slow.ok(DeleteThread, { input: { threadId: doomed.id } }, { token: o.owner.token });
    expect((await sending).errors?.[0].extensions?.code).toBe('GONE');
    sub2.close();
    await slow.stop();
  });
});

describe('sessions', () => {
  it('rotates at the token budget, carrying a summary; Thread.messages spans all sessions in order', async () => {
    const small = await startServer({ overrides: { sessions: { tokenBudget: 50 } } });
    const o = await orgWithMembers(small);
    const thread = await createThread(small, o.owner.token, o.org.id);
    const ten = 'alpha beta gamma delta epsilon zeta eta theta iota kappa';
    await send(small, { token: o.owner.token }, thread.id, `one ${ten}`); // 15 + 15 tokens: 30 < 50
    await send(small, { token: o.owner.token }, thread.id, `two ${ten}`); // now 60 ≥ 50: the next message rotates
    let { thread: t } = await small.ok(ThreadMessages, { id: thread.id }, { token: o.owner.token });
    expect(t!.sessions.edges).toHaveLength(1);
    await send(small, { token: o.owner.token }, thread.id, 'three');
    ({ thread: t } = await small.ok(ThreadMessages, { id: thread.id }, { token: o.owner.token }));
    const sessions = t!.sessions.edges.map((e) => e.node);
    expect(sessions.map((s) => [s.index, s.state])).toEqual([[1, 'CLOSED'], [2, 'ACTIVE']]);
    expect(sessions[1].summary).toMatch(/^Summary of 4 earlier messages: user: one alpha/);
    expect(t!.currentSession?.index).toBe(2);
    expect(t!.messages.edges.map((e) => [e.node.content.split(' ')[0], e.node.session.index])).toEqual([
      ['one', 1], ['one', 1], ['two', 1], ['two', 1], ['three', 2], ['three', 2],
    ]);
    await small.stop();
  });

  it('rotates an expired session', async () => {
    const brief = await startServer({ overrides: { sessions: { ttl: 1 } } });
    const o = await orgWithMembers(brief);
    const thread = await createThread(brief, o.owner.token, o.org.id);
    await send(brief, { token: o.owner.token }, thread.id, 'before');
    await new Promise((r) => setTimeout(r, 1100));
    await send(brief, { token: o.owner.token }, thread.id, 'after');
    const { thread: t } = await brief.ok(ThreadMessages, { id: thread.id }, { token: o.owner.token });
    expect(t!.sessions.edges.map((e) => e.node.index)).toEqual([1, 2]);
    expect(t!.sessions.edges[1].node.summary).toContain('user: before');
    await brief.stop();
  });
});
