import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../src/auth/tokens.ts';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { subscribe } from './helpers/client.ts';
import { createThread } from './helpers/chat.ts';
import { createApiKey, createOrg, registerUser } from './helpers/fixtures.ts';
import { OpenPaidSessionDoc, openSession, paidSession, settle, SettleDevInvoiceDoc, topUp, TopUpSessionDoc } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const SessionNode = graphql(`
  query PaidSessionNode($id: ID!) {
    node(id: $id) {
      __typename
      ... on Session { id state prepaid balanceSats minimumBalanceSats expiresAt pendingTopUp { id } invoices { edges { node { id kind state } } } }
    }
  }
`);
const InvoiceNode = graphql(`
  query PaidInvoiceNode($id: ID!) { node(id: $id) { ... on Invoice { id state kind session { id } } } }
`);
const OrgQuery = graphql(`query PaidOrg($id: ID!) { org(id: $id) { id } }`);
const SessionLookup = graphql(`
  query PaidSessionLookup($id: ID!) { session(id: $id) { id state balanceSats invoices { totalCount } requests { totalCount } } models { name } }
`);
const SessionEvents = graphql(`
  subscription PaidSessionEvents($id: ID!) {
    sessionEvents(sessionId: $id) {
      __typename
      ... on SessionStateChanged { state balanceSats expiresAt session { id state balanceSats } }
      ... on CostDebited { chargedSats balanceAfterSats }
    }
  }
`);
const InvoiceUpdated = graphql(`
  subscription PaidInvoiceUpdated($id: ID!) { invoiceUpdated(invoiceId: $id) { id state paidAt } }
`);
const Clear = graphql(`
  mutation PaidClearHistory($input: ClearSessionHistoryInput!) { clearSessionHistory(input: $input) { deletedMessages session { id } } }
`);

let server: TestServer;
/** A paid session attached to a thread, opened by a signed-in member. */
const paidSessionOf = async (token: string, threadId: string) => {
  const opened = await openSession(server, 300, { token }, threadId);
  await settle(server, opened.invoice.paymentHash);
  return opened;
};
beforeAll(async () => {
  server = await startServer({ overrides: { paidSessions: { ttl: 3600 } } });
});

describe('openPaidSession', () => {
  it('opens an anonymous session awaiting its deposit, with a one-time token stored only as a hash', async () => {
    const opened = await openSession(server, 500);
    expect(opened.token).toMatch(/^cfs_[\w-]{43}$/);
    expect(opened.session).toMatchObject({ state: 'AWAITING_PAYMENT', balanceSats: 0 });
    expect(opened.invoice).toMatchObject({ kind: 'DEPOSIT', state: 'PENDING', amountSats: 500 });
    expect(opened.invoice.paymentRequest).toMatch(/^lnbcrt5000n1/);
    expect(opened.invoice.paymentHash).toMatch(/^[0-9a-f]{64}$/);
    const rows = await db.session.findMany({ where: { tokenHash: sha256(opened.token) } });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(await db.session.findMany())).not.toContain(opened.token);
  });

  it.each([
    ['below the minimum', 99],
    ['above the maximum', 10_001],
    ['zero', 0],
    ['negative', -5],
  ])('refuses an amount %s with BAD_USER_INPUT and stores nothing', async (_label, amountSats) => {
    const before = await db.session.count();
    const invoices = await db.invoice.count();
    expect(await server.errorCode(OpenPaidSessionDoc, { input: { amountSats } })).toBe('BAD_USER_INPUT');
    expect(await db.session.count()).toBe(before);
    expect(await db.invoice.count()).toBe(invoices);
  });

  it('accepts the bounds themselves', async () => {
    expect((await openSession(server, 100)).invoice.amountSats).toBe(100);
    expect((await openSession(server, 10_000)).invoice.amountSats).toBe(10_000);
  });

  it('refuses API keys and a malformed thread id', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const { key } = await (await import('./helpers/fixtures.ts')).createApiKey(server, owner, org.id, ['READ', 'CHAT']);
    expect(await server.errorCode(OpenPaidSessionDoc, { input: { amountSats: 200 } }, { apiKey: key })).toBe('FORBIDDEN');
    expect(await server.errorCode(OpenPaidSessionDoc, { input: { amountSats: 200, threadId: org.id } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    // Anonymous clients cannot attach a session to a thread.
    expect(await server.errorCode(OpenPaidSessionDoc, { input: { amountSats: 200, threadId: org.id } })).toBe('UNAUTHENTICATED');
  });
});

describe('visibility', () => {
  it('shows the session and its invoices to the token holder and the owner only', async () => {
    const owner = await registerUser(server);
    const stranger = await registerUser(server);
    const mine = await openSession(server, 300, { token: owner.token });
    const anon = await openSession(server, 300);
    const seen = await server.ok(SessionNode, { id: anon.session.id }, { token: anon.token });
    expect(seen.node).toMatchObject({ __typename: 'Session', state: 'AWAITING_PAYMENT', prepaid: true, minimumBalanceSats: 50 });
    expect((await server.ok(SessionNode, { id: mine.session.id }, { token: owner.token })).node).not.toBeNull();
    expect((await server.ok(SessionNode, { id: mine.session.id }, { token: mine.token })).node).not.toBeNull();
    for (const auth of [{}, { token: stranger.token }, { token: anon.token }]) {
      expect(await server.errorCode(SessionNode, { id: mine.session.id }, auth)).toBe('NOT_FOUND');
      expect(await server.errorCode(InvoiceNode, { id: mine.invoice.id }, auth)).toBe('NOT_FOUND');
    }
    expect((await server.ok(InvoiceNode, { id: anon.invoice.id }, { token: anon.token })).node).toMatchObject({ state: 'PENDING' });
  });

  it('answers session(id) for its holder, and null with NOT_FOUND for a hidden or missing one while the rest of the request still answers', async () => {
    const owner = await registerUser(server);
    const stranger = await registerUser(server);
    const mine = await openSession(server, 300, { token: owner.token });
    expect((await server.ok(SessionLookup, { id: mine.session.id }, { token: owner.token })).session).toMatchObject({
      id: mine.session.id,
      state: 'AWAITING_PAYMENT',
      invoices: { totalCount: 1 },
      requests: { totalCount: 0 },
    });
    const missing = Buffer.from('Session:no-such-session').toString('base64');
    for (const id of [mine.session.id, missing]) {
      const res = await server.gql(SessionLookup, { id }, { token: stranger.token });
      expect(res.data?.session).toBeNull();
      expect(res.data?.models.length).toBeGreaterThan(0);
      expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([['session', 'NOT_FOUND']]);
    }
  });

  it("shows a thread's paid session to the thread's readers without its money: invoices and requests are null with FORBIDDEN", async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const thread = await createThread(server, owner.token, org.id);
    const s = await paidSessionOf(owner.token, thread.id);
    const key = await createApiKey(server, owner, org.id, ['READ']);
    const res = await server.gql(SessionLookup, { id: s.session.id }, { apiKey: key.key });
    expect(res.data?.session).toMatchObject({ id: s.session.id, state: 'ACTIVE', invoices: null, requests: null });
    expect(res.errors?.map((e) => [e.path?.join('.'), e.extensions?.code]).sort()).toEqual([
      ['session.invoices', 'FORBIDDEN'],
      ['session.requests', 'FORBIDDEN'],
    ]);
    expect((await server.ok(SessionLookup, { id: s.session.id }, { token: owner.token })).session?.invoices).toEqual({ totalCount: 1 });
  });

  it('refuses malformed ids in subscription arguments as BAD_USER_INPUT naming the argument', async () => {
    const s = await openSession(server, 200);
    const events = subscribe(server.ws({ token: s.token }), SessionEvents, { id: s.invoice.id });
    expect((await events.rejection())?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessionId' });
    const inv = subscribe(server.ws({ token: s.token }), InvoiceUpdated, { id: s.session.id });
    expect((await inv.rejection())?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'invoiceId' });
  });

  it('gives a session token no access to orgs, and rejects unknown session tokens', async () => {
    const owner = await registerUser(server);
    const org = await createOrg(server, owner);
    const s = await openSession(server, 200, { token: owner.token });
    expect(await server.errorCode(OrgQuery, { id: org.id }, { token: s.token })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(SessionNode, { id: s.session.id }, { token: `cfs_${'x'.repeat(43)}` })).toBe('UNAUTHENTICATED');
  });

  it('refuses subscriptions to sessions and invoices the viewer cannot see', async () => {
    const s = await openSession(server, 200);
    const other = await openSession(server, 200);
    for (const client of [server.ws(), server.ws({ token: other.token })]) {
      const events = subscribe(client, SessionEvents, { id: s.session.id });
      expect((await events.rejection())?.extensions?.code).toBe('NOT_FOUND');
      const inv = subscribe(client, InvoiceUpdated, { id: s.invoice.id });
      expect((await inv.rejection())?.extensions?.code).toBe('NOT_FOUND');
      expect(events.received.every((e) => !e.data?.sessionEvents)).toBe(true);
    }
  });
});

describe('settling', () => {
  it('activates the session, credits the deposit once and sets the expiry', async () => {
    const s = await openSession(server, 700);
    const paid = await settle(server, s.invoice.paymentHash);
    expect(paid).toMatchObject({ state: 'PAID', session: { state: 'ACTIVE', balanceSats: 700 } });
    expect(paid.paidAt).toBeTruthy();
    const again = await settle(server, s.invoice.paymentHash);
    expect(again.session.balanceSats).toBe(700);
    const { node } = await server.ok(SessionNode, { id: s.session.id }, { token: s.token });
    const ttlLeft = new Date((node as { expiresAt: string }).expiresAt).getTime() - Date.now();
    expect(ttlLeft).toBeGreaterThan(3500_000);
    expect(ttlLeft).toBeLessThanOrEqual(3600_000);
  });

  it('settles exactly once when many settle at the same moment', async () => {
    const s = await openSession(server, 1234);
    const results = await Promise.all(Array.from({ length: 8 }, () => server.gql(SettleDevInvoiceDoc, { input: { paymentHash: s.invoice.paymentHash } })));
    expect(results.every((r) => !r.errors)).toBe(true);
    const row = await db.session.findUniqueOrThrow({ where: { id: (await db.invoice.findFirstOrThrow({ where: { paymentHash: s.invoice.paymentHash } })).sessionId } });
    expect(row.balanceSats).toBe(1234);
  });

  it('refuses unknown payment hashes', async () => {
    expect(await server.errorCode(SettleDevInvoiceDoc, { input: { paymentHash: 'f'.repeat(64) } })).toBe('NOT_FOUND');
  });

  it('streams the invoice and the session as they change, over WS with the session token', async () => {
    const s = await openSession(server, 400);
    const client = server.ws({ token: s.token });
    const inv = subscribe(client, InvoiceUpdated, { id: s.invoice.id });
    const events = subscribe(client, SessionEvents, { id: s.session.id });
    expect((await inv.next()).data?.invoiceUpdated.state).toBe('PENDING');
    expect((await events.next()).data?.sessionEvents).toMatchObject({ __typename: 'SessionStateChanged', state: 'AWAITING_PAYMENT', balanceSats: 0 });
    await settle(server, s.invoice.paymentHash);
    expect((await inv.next()).data?.invoiceUpdated).toMatchObject({ state: 'PAID' });
    expect(await inv.ended).toBeUndefined();
    expect((await events.next()).data?.sessionEvents).toMatchObject({ state: 'ACTIVE', balanceSats: 400, session: { state: 'ACTIVE', balanceSats: 400 } });
    await events.expectSilence(200);
    events.close();
  });
});

describe('topUpSession', () => {
  it('needs a paid deposit, allows one pending top-up, and credits it when paid', async () => {
    const s = await openSession(server, 200);
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 300 } }, { token: s.token })).toBe('CONFLICT');
    await settle(server, s.invoice.paymentHash);
    const first = await topUp(server, s.token, s.session.id, 300);
    expect(first.invoice).toMatchObject({ kind: 'TOPUP', state: 'PENDING', amountSats: 300 });
    const second = await server.gql(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 500 } }, { token: s.token });
    expect(second.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', pendingInvoiceId: first.invoice.id });
    const { node } = await server.ok(SessionNode, { id: s.session.id }, { token: s.token });
    expect((node as { pendingTopUp: { id: string } }).pendingTopUp.id).toBe(first.invoice.id);
    const paid = await settle(server, first.invoice.paymentHash);
    expect(paid.session.balanceSats).toBe(500);
    const next = await topUp(server, s.token, s.session.id, 100);
    expect(next.invoice.state).toBe('PENDING');
  });

  it('lets exactly one of several concurrent top-ups through', async () => {
    const s = await paidSession(server, 200);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => server.gql(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 150 } }, { token: s.token })),
    );
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => r.errors?.[0].extensions?.code === 'CONFLICT').length).toBe(5);
    const sessionId = (await db.session.findFirstOrThrow({ where: { tokenHash: sha256(s.token) } })).id;
    expect(await db.invoice.count({ where: { sessionId, kind: 'TOPUP', state: 'PENDING' } })).toBe(1);
  });

  it('checks bounds and access', async () => {
    const s = await paidSession(server, 200);
    const other = await paidSession(server, 200);
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 10 } }, { token: s.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 200 } }, { token: other.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.session.id, amountSats: 200 } })).toBe('NOT_FOUND');
    expect(await server.errorCode(TopUpSessionDoc, { input: { sessionId: s.invoice.id, amountSats: 200 } }, { token: s.token })).toBe('BAD_USER_INPUT');
  });
});

describe('clearSessionHistory', () => {
  it('is for the session holder only', async () => {
    const s = await paidSession(server, 200);
    const other = await paidSession(server, 200);
    expect(await server.errorCode(Clear, { input: { sessionId: s.session.id } }, { token: other.token })).toBe('NOT_FOUND');
    const { clearSessionHistory } = await server.ok(Clear, { input: { sessionId: s.session.id } }, { token: s.token });
    expect(clearSessionHistory).toMatchObject({ deletedMessages: 0, session: { id: s.session.id } });
  });
});
