import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createThread, send } from './helpers/chat.ts';
import { orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { openSession, paidSession, settle, topUp } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Send = graphql(`
  mutation SpendSend($input: SendSessionMessageInput!) {
    sendSessionMessage(input: $input) {
      deduplicated
      userMessage { id content }
      assistantMessage { id status content }
      request { id status workPromptTokens workCompletionTokens costSats chargedSats absorbedSats balanceAfterSats breakdown { btcUsd markup costSats absorbedSats chargedSats heldSats screening { model promptTokens completionTokens costUsd costSats } work { model promptTokens completionTokens costUsd costSats } } }
    }
  }
`);
const Events = graphql(`
  subscription SpendEvents($id: ID!) {
    sessionEvents(sessionId: $id) {
      __typename
      ... on SessionStateChanged { state balanceSats }
      ... on CostDebited { chargedSats balanceAfterSats breakdown { costSats chargedSats } request { status } }
      ... on AssistantDelta { delta index }
      ... on AssistantDone { message { content } }
      ... on ThreadMessageAdded { message { role } }
    }
  }
`);
const SessionQ = graphql(`
  query SpendSession($id: ID!) {
    session(id: $id) { id state balanceSats messages { edges { node { role content } } } requests { edges { node { id status costSats chargedSats } } } }
  }
`);
const Clear = graphql(`mutation SpendClear($input: ClearSessionHistoryInput!) { clearSessionHistory(input: $input) { deletedMessages } }`);
const ThreadQ = graphql(`query SpendThread($id: ID!) { thread(id: $id) { currentSession { id prepaid balanceSats } } }`);

let server: TestServer;
beforeAll(async () => {
  // 1 sat per token: $1 per 1,000 tokens at $100,000 per BTC.
  server = await startServer({
    overrides: { pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } }, paidSessions: { minimumBalance: 50, requestHoldSats: 50 } },
  });
});

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');
const sessionRow = (id: string) => db.session.findUniqueOrThrow({ where: { id: Buffer.from(id, 'base64').toString().split(':')[1] } });

describe('sendSessionMessage', () => {
  it('chats in a standalone session, streams on sessionEvents and debits the priced tokens once', async () => {
    const s = await paidSession(server, 1000);
    const events = subscribe(server.ws({ token: s.token }), Events, { id: s.session.id });
    expect((await events.next()).data?.sessionEvents).toMatchObject({ __typename: 'SessionStateChanged', state: 'ACTIVE', balanceSats: 1000 });
    const { sendSessionMessage: r } = await server.ok(Send, { input: { sessionId: s.session.id, content: 'hello world', clientMsgId: 'm1' } }, { token: s.token });
    expect(r.assistantMessage).toMatchObject({ status: 'COMPLETE', content: 'hello world' });
    // echo: prompt = 3 tokens + 4 overhead, completion = 3 tokens → 10 sats.
    expect(r.request).toMatchObject({ status: 'COMPLETED', workPromptTokens: 7, workCompletionTokens: 3, costSats: 10, chargedSats: 10, absorbedSats: 0, balanceAfterSats: 990 });
    expect(r.request?.breakdown).toMatchObject({ btcUsd: 100_000, work: { model: 'echo', costSats: 10 }, screening: null, costSats: 10, chargedSats: 10 });
    const seen: string[] = [];
    let debit: unknown;
    while (!seen.includes('AssistantDone') || !seen.includes('CostDebited')) {
      const e = (await events.next()).data!.sessionEvents;
      seen.push(e.__typename);
      if (e.__typename === 'CostDebited') debit = e;
    }
    expect(seen.filter((t) => t === 'ThreadMessageAdded')).toHaveLength(2);
    expect(seen.filter((t) => t === 'AssistantDelta')).toHaveLength(2);
    expect(debit).toMatchObject({ chargedSats: 10, balanceAfterSats: 990, breakdown: { costSats: 10, chargedSats: 10 }, request: { status: 'COMPLETED' } });

    const retry = await server.ok(Send, { input: { sessionId: s.session.id, content: 'hello world', clientMsgId: 'm1' } }, { token: s.token });
    expect(retry.sendSessionMessage).toMatchObject({ deduplicated: true, request: { id: r.request?.id } });
    const { session } = await server.ok(SessionQ, { id: s.session.id }, { token: s.token });
    expect(session).toMatchObject({ balanceSats: 990 });
    expect(session!.requests!.edges).toHaveLength(1);
    expect(session!.messages.edges.map((e) => e.node.role)).toEqual(['USER', 'ASSISTANT']);
    events.close();
  });

  it('refuses before payment, when paused (PAYMENT_REQUIRED with balance and minimum), and resumes after a top-up', async () => {
    const unpaid = await openSession(server, 200);
    const early = await server.gql(Send, { input: { sessionId: unpaid.session.id, content: 'hi' } }, { token: unpaid.token });
    expect(early.errors?.[0].extensions?.code).toBe('PAYMENT_REQUIRED');

    const s = await paidSession(server, 100);
    // 60 words: prompt 64 + completion 60 = 124 sats, more than the 100 left: the balance stops at zero.
    const { sendSessionMessage: r } = await server.ok(Send, { input: { sessionId: s.session.id, content: words(60) } }, { token: s.token });
    expect(r.request).toMatchObject({ costSats: 124, chargedSats: 100, balanceAfterSats: 0 });
    expect((await sessionRow(s.session.id)).state).toBe('PAUSED');
    const refused = await server.gql(Send, { input: { sessionId: s.session.id, content: 'hi' } }, { token: s.token });
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'PAYMENT_REQUIRED', balanceSats: 0, minimumBalanceSats: 50 });
    const t = await topUp(server, s.token, s.session.id, 200);
    expect((await settle(server, t.invoice.paymentHash)).session).toMatchObject({ state: 'ACTIVE', balanceSats: 200 });
    await server.ok(Send, { input: { sessionId: s.session.id, content: 'hi again' } }, { token: s.token });
  });

  it('never overspends a low balance under concurrent requests', async () => {
    const s = await paidSession(server, 200);
    // Each costs 84 sats (40 words), more than its 50-sat hold.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => server.gql(Send, { input: { sessionId: s.session.id, content: words(40), clientMsgId: `c${i}` } }, { token: s.token })),
    );
    const ok = results.filter((r) => !r.errors);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length).toBeLessThan(6);
    for (const r of results.filter((x) => x.errors)) expect(r.errors?.[0].extensions?.code).toBe('PAYMENT_REQUIRED');
    const row = await sessionRow(s.session.id);
    const requests = await db.sessionRequest.findMany({ where: { sessionId: row.id } });
    expect(requests).toHaveLength(ok.length);
    expect(requests.every((q) => q.status === 'COMPLETED' && q.chargedSats <= q.costSats && q.balanceAfterSats! >= 0)).toBe(true);
    expect(row.balanceSats).toBeGreaterThanOrEqual(0);
    expect(row.balanceSats).toBe(200 - requests.reduce((sum, q) => sum + q.chargedSats, 0));
  });

  it('charges a message once when the same clientMsgId is sent many times at once', async () => {
    const s = await paidSession(server, 1000);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => server.gql(Send, { input: { sessionId: s.session.id, content: 'just once', clientMsgId: 'same' } }, { token: s.token })),
    );
    expect(results.every((r) => !r.errors)).toBe(true);
    const ids = new Set(results.map((r) => r.data?.sendSessionMessage.assistantMessage.id));
    expect(ids.size).toBe(1);
    const row = await sessionRow(s.session.id);
    const requests = await db.sessionRequest.findMany({ where: { sessionId: row.id } });
    const charged = requests.filter((q) => q.chargedSats > 0);
    expect(charged).toHaveLength(1);
    expect(requests.every((q) => q.status !== 'PENDING')).toBe(true);
    expect(row.balanceSats).toBe(1000 - charged[0].chargedSats);
  });

  it('is for the token holder and the owner; others cannot send, and bad input changes nothing', async () => {
    const owner = await registerUser(server);
    const s = await paidSession(server, 300, { token: owner.token });
    const other = await paidSession(server, 300);
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'x' } }, { token: other.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'x' } })).toBe('NOT_FOUND');
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: '   ' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'x', model: 'nope' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect((await sessionRow(s.session.id)).balanceSats).toBe(300);
    expect(await db.sessionRequest.count({ where: { sessionId: (await sessionRow(s.session.id)).id } })).toBe(0);
    await server.ok(Send, { input: { sessionId: s.session.id, content: 'from the owner' } }, { token: owner.token });
  });

  it('clears a standalone session history but keeps its requests and balance', async () => {
    const s = await paidSession(server, 500);
    await server.ok(Send, { input: { sessionId: s.session.id, content: 'remember this' } }, { token: s.token });
    const before = (await sessionRow(s.session.id)).balanceSats;
    expect((await server.ok(Clear, { input: { sessionId: s.session.id } }, { token: s.token })).clearSessionHistory.deletedMessages).toBe(2);
    const { session } = await server.ok(SessionQ, { id: s.session.id }, { token: s.token });
    expect(session).toMatchObject({ balanceSats: before, messages: { edges: [] } });
    expect(session!.requests!.edges).toHaveLength(1);
  });
});

describe('a paid session on a thread', () => {
  it("becomes the thread's current session once paid, and sendThreadMessage spends from it", async () => {
    const { org, owner, members } = await orgWithMembers(server, 0);
    const outsider = await registerUser(server);
    const thread = await createThread(server, owner.token, org.id);
    expect(await server.errorCode(graphql(`mutation SpendOpenOnThread($input: OpenPaidSessionInput!) { openPaidSession(input: $input) { token } }`), { input: { amountSats: 300, threadId: thread.id } }, { token: outsider.token })).toBe('NOT_FOUND');
    void members;
    await send(server, { token: owner.token }, thread.id, 'on the plan');
    const planSession = (await server.ok(ThreadQ, { id: thread.id }, { token: owner.token })).thread!.currentSession!;
    expect(planSession.prepaid).toBe(false);
    const s = await openSession(server, 300, { token: owner.token }, thread.id);
    await settle(server, s.invoice.paymentHash);
    expect((await sessionRow(planSession.id)).state).toBe('CLOSED');
    expect((await server.ok(ThreadQ, { id: thread.id }, { token: owner.token })).thread!.currentSession).toMatchObject({ id: s.session.id, prepaid: true, balanceSats: 300 });
    const reply = await send(server, { token: owner.token }, thread.id, 'hello world');
    expect(reply.assistantMessage.status).toBe('COMPLETE');
    const row = await sessionRow(s.session.id);
    const [request] = await db.sessionRequest.findMany({ where: { sessionId: row.id } });
    expect(request).toMatchObject({ status: 'COMPLETED', costSats: 10, chargedSats: 10, balanceAfterSats: 290 });
    expect(row.balanceSats).toBe(290);
    expect(await server.errorCode(Clear, { input: { sessionId: s.session.id } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Send, { input: { sessionId: s.session.id, content: 'x' } }, { token: s.token })).toBe('BAD_USER_INPUT');
  });
});
