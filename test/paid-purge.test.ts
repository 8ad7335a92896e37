import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send as sendThread } from './helpers/chat.ts';
import { subscribe } from './helpers/client.ts';
import { createOrg, registerUser, type TestUser } from './helpers/fixtures.ts';
import { openSession, settle } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const SessionView = graphql(`
  query PurgeSession($id: ID!) {
    session(id: $id) {
      id state balanceSats historyTokens
      thread { id }
      messages(first: 50) { totalCount }
      invoices(first: 10) { totalCount edges { node { kind state amountSats } } }
      requests(first: 10) { totalCount edges { node { status chargedSats } } }
    }
  }
`);
const ThreadView = graphql(`
  query PurgeThread($id: ID!) { thread(id: $id) { id messageCount messages(first: 50) { edges { node { seq content } } } } }
`);
const SendSession = graphql(`
  mutation PurgeSend($input: SendSessionMessageInput!) { sendSessionMessage(input: $input) { request { status chargedSats } } }
`);
const StateEvents = graphql(`
  subscription PurgeEvents($id: ID!) { sessionEvents(sessionId: $id) { ... on SessionStateChanged { state } } }
`);
const ThreadEvents = graphql(`
  subscription PurgeThreadEvents($threadId: ID!) { threadEvents(threadId: $threadId) { __typename ... on ThreadDeleted { threadId } } }
`);

// Sessions live 2 s after their last activity and unpaid ones 2 s; the worker sweeps every 100 ms; 1 sat per token.
const overrides = {
  paidSessions: { ttl: 2, minimumBalance: 50, requestHoldSats: 50, purgeOnExpiry: true },
  lightning: { pollInterval: 100, invoiceTtl: 2 },
  pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
};

// One server (a process serves one database): the setting is read at each expiry, so the `off` tests turn it off.
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides });
});

/** A paid session of `owner` (on `threadId` if given), and a wait for its expiry heard by its owner. */
async function paid(server: TestServer, owner: TestUser, threadId?: string) {
  const opened = await openSession(server, 1000, { token: owner.token }, threadId);
  await settle(server, opened.invoice.paymentHash);
  const events = subscribe(server.ws({ token: owner.token }), StateEvents, { id: opened.session.id });
  const expired = async () => {
    for (;;) {
      const event = (await events.next(10_000)).data?.sessionEvents as { state?: string } | undefined;
      if (event?.state === 'EXPIRED') return;
    }
  };
  const view = async () => (await server.ok(SessionView, { id: opened.session.id }, { token: owner.token })).session!;
  return { ...opened, expired, view };
}

describe('paid_sessions.purge_on_expiry on', () => {
  it("deletes a standalone session's messages when it expires; its invoices, requests and balance stay", async () => {
    const owner = await registerUser(server);
    const s = await paid(server, owner);
    for (const q of ['one', 'two']) expect((await server.gql(SendSession, { input: { sessionId: s.session.id, content: q } }, { token: s.token })).errors).toBeUndefined();
    const before = await s.view();
    expect(before.messages.totalCount).toBe(4);
    await s.expired();
    const after = await s.view();
    expect(after).toMatchObject({ state: 'EXPIRED', balanceSats: before.balanceSats, historyTokens: 0, messages: { totalCount: 0 } });
    expect(after.invoices).toEqual(before.invoices);
    expect(after.requests).toEqual(before.requests);
    expect(after.requests!.totalCount).toBe(2);
  });

  it('deletes a thread that existed only for the session (its streams hear ThreadDeleted); the session and its invoices stay', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const thread = await createThread(server, owner.token, org.id);
    const s = await paid(server, owner, thread.id);
    await sendThread(server, { token: owner.token }, thread.id, 'paid question');
    const threadEvents = subscribe(server.ws({ token: owner.token }), ThreadEvents, { threadId: thread.id });
    const before = await s.view();
    expect(before).toMatchObject({ thread: { id: thread.id }, messages: { totalCount: 2 } });
    await s.expired();
    expect((await threadEvents.next()).data?.threadEvents).toMatchObject({ __typename: 'ThreadDeleted' });
    expect(await server.errorCode(ThreadView, { id: thread.id }, { token: owner.token })).toBe('NOT_FOUND');
    const after = await s.view();
    expect(after).toMatchObject({ state: 'EXPIRED', thread: null, messages: { totalCount: 0 } });
    expect(after.invoices).toEqual(before.invoices);
    expect(after.requests).toEqual(before.requests);
  });

  it('keeps a thread the session never wrote to (an unpaid deposit that expired)', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const thread = await createThread(server, owner.token, org.id);
    const unpaid = await openSession(server, 1000, { token: owner.token }, thread.id);
    const events = subscribe(server.ws({ token: owner.token }), StateEvents, { id: unpaid.session.id });
    expect((await events.next()).data?.sessionEvents).toMatchObject({ state: 'AWAITING_PAYMENT' });
    expect((await events.next(10_000)).data?.sessionEvents).toMatchObject({ state: 'EXPIRED' });
    expect((await server.ok(ThreadView, { id: thread.id }, { token: owner.token })).thread).toMatchObject({ id: thread.id, messageCount: 0 });
  });

  it("keeps a thread with other sessions' messages, deleting only the paid session's", async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const thread = await createThread(server, owner.token, org.id);
    await sendThread(server, { token: owner.token }, thread.id, 'on the plan');
    const s = await paid(server, owner, thread.id);
    await sendThread(server, { token: owner.token }, thread.id, 'paid question');
    await s.expired();
    const kept = (await server.ok(ThreadView, { id: thread.id }, { token: owner.token })).thread!;
    expect(kept.messages.edges.map((e) => e.node.seq)).toEqual([1, 2]);
    expect(kept.messages.edges[0].node.content).toBe('on the plan');
    expect((await s.view()).messages.totalCount).toBe(0);
  });
});

describe('paid_sessions.purge_on_expiry off (the default)', () => {
  beforeAll(() => {
    server.config.paidSessions.purgeOnExpiry = false;
  });

  it('keeps the messages and the thread of an expired session', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const thread = await createThread(server, owner.token, org.id);
    const s = await paid(server, owner, thread.id);
    await sendThread(server, { token: owner.token }, thread.id, 'paid question');
    const standalone = await paid(server, owner);
    expect((await server.gql(SendSession, { input: { sessionId: standalone.session.id, content: 'hi' } }, { token: standalone.token })).errors).toBeUndefined();
    await Promise.all([s.expired(), standalone.expired()]);
    expect(await s.view()).toMatchObject({ state: 'EXPIRED', thread: { id: thread.id }, messages: { totalCount: 2 } });
    expect(await standalone.view()).toMatchObject({ state: 'EXPIRED', messages: { totalCount: 2 } });
    expect((await server.ok(ThreadView, { id: thread.id }, { token: owner.token })).thread!.messages.edges).toHaveLength(2);
  });
});
