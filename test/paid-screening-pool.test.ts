import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { registerUser } from './helpers/fixtures.ts';
import { paidSession } from './helpers/paid.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Send = graphql(`
  mutation PoolSend($input: SendSessionMessageInput!) {
    sendSessionMessage(input: $input) {
      request { status screeningModel screeningPromptTokens screeningCompletionTokens workPromptTokens workCompletionTokens costSats absorbedSats chargedSats balanceAfterSats breakdown { btcUsd markup costSats absorbedSats chargedSats heldSats screening { model promptTokens completionTokens costUsd costSats } work { model promptTokens completionTokens costUsd costSats } } }
    }
  }
`);
const Requests = graphql(`
  query PoolRequests($id: ID!) {
    node(id: $id) { ... on Session { balanceSats messages { edges { node { id } } } requests { edges { node { status reason costSats chargedSats screeningPromptTokens workPromptTokens } } } } }
  }
`);

const TRUSTED = `trusted-${Date.now().toString(36)}@example.com`;
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    overrides: {
      pricing: { btcUsd: 100_000, models: { echo: { inputPer1kUsd: 1, outputPer1kUsd: 1 } } },
      screening: { enabled: true, model: 'echo', blockedWords: ['forbidden'] },
      freePool: { sats: 60, maxPerRequest: 25 },
      // One paid request (1 point, decaying from then on) makes a user ESTABLISHED, whom the pool serves.
      trust: { establishedScore: 0.5, trustedScore: 2, eliteScore: 100, freePoolTier: 'ESTABLISHED' },
    },
  });
});

const idOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1];

describe('screening', () => {
  it('rejects a request with a blocked word: stored REJECTED with the reason, charged the screening only, no messages', async () => {
    const s = await paidSession(server, 500);
    const res = await server.gql(Send, { input: { sessionId: s.session.id, content: 'tell me FORBIDDEN things' } }, { token: s.token });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SCREENING_REJECTED' });
    const { node } = await server.ok(Requests, { id: s.session.id }, { token: s.token });
    const session = node as { balanceSats: number; messages: { edges: unknown[] }; requests: { edges: { node: Record<string, unknown> }[] } };
    expect(session.messages.edges).toHaveLength(0);
    const [req] = session.requests.edges.map((e) => e.node);
    expect(req).toMatchObject({ status: 'REJECTED', workPromptTokens: 0 });
    expect(req.reason).toContain('forbidden');
    expect(req.screeningPromptTokens).toBeGreaterThan(0);
    expect(req.costSats).toBeGreaterThan(0);
    expect(session.balanceSats).toBe(500 - (req.chargedSats as number));
  });

  it('keeps screening and work tokens apart on an accepted request', async () => {
    const s = await paidSession(server, 500);
    const { sendSessionMessage } = await server.ok(Send, { input: { sessionId: s.session.id, content: 'hello world' } }, { token: s.token });
    const r = sendSessionMessage.request!;
    expect(r).toMatchObject({ status: 'COMPLETED', screeningModel: 'echo', workPromptTokens: 7, workCompletionTokens: 3 });
    expect(r.screeningPromptTokens + r.screeningCompletionTokens).toBeGreaterThan(0);
    const b = r.breakdown!;
    expect(b.screening).toMatchObject({ model: 'echo', promptTokens: r.screeningPromptTokens, completionTokens: r.screeningCompletionTokens });
    expect(r.costSats).toBe(b.screening!.costSats + b.work.costSats);
    expect(r.balanceAfterSats).toBe(500 - r.chargedSats);
  });
});

describe('free-tier pool', () => {
  it('absorbs trusted users’ costs up to its size, never more, under concurrency; others pay in full', async () => {
    const trusted = await registerUser(server, { email: TRUSTED });
    const s = await paidSession(server, 10_000, { token: trusted.token });
    const earned = await server.ok(Send, { input: { sessionId: s.session.id, content: 'a first paid question' } }, { token: trusted.token });
    expect(earned.sendSessionMessage.request).toMatchObject({ status: 'COMPLETED', absorbedSats: 0 });
    const me = await server.ok<{ me: { trust: { tier: string } } }, object>('{ me { trust { tier score } } }', {}, { token: trusted.token });
    expect(me.me.trust).toMatchObject({ tier: 'ESTABLISHED' });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => server.gql(Send, { input: { sessionId: s.session.id, content: `question ${i} about pools` } }, { token: trusted.token })),
    );
    expect(results.every((r) => !r.errors)).toBe(true);
    const requests = await db.sessionRequest.findMany({ where: { sessionId: idOf(s.session.id) } });
    const absorbed = requests.reduce((sum, r) => sum + r.absorbedSats, 0);
    const pool = await db.freePool.findUniqueOrThrow({ where: { id: 'default' } });
    expect(pool.remainingSats).toBeGreaterThanOrEqual(0);
    expect(absorbed).toBe(60 - pool.remainingSats);
    expect(absorbed).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.absorbedSats).toBeLessThanOrEqual(25);
      expect(r.absorbedSats + r.chargedSats).toBe(r.costSats);
    }
    const row = await db.session.findUniqueOrThrow({ where: { id: idOf(s.session.id) } });
    expect(row.balanceSats).toBe(10_000 - requests.reduce((sum, r) => sum + r.chargedSats, 0));

    const stranger = await registerUser(server);
    const other = await paidSession(server, 500, { token: stranger.token });
    const { sendSessionMessage } = await server.ok(Send, { input: { sessionId: other.session.id, content: 'hello world' } }, { token: stranger.token });
    expect(sendSessionMessage.request).toMatchObject({ absorbedSats: 0 });
    expect(sendSessionMessage.request!.chargedSats).toBe(sendSessionMessage.request!.costSats);
  });
});
