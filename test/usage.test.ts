import { beforeAll, describe, expect, it } from 'vitest';
import { db } from '../src/db/client.ts';
import { graphql } from './gql/index.ts';
import { ChatSendDoc, createThread, send } from './helpers/chat.ts';
import { createApiKey, orgWithMembers } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Usage = graphql(`
  query UsageOrg($id: ID!, $from: Date!, $to: Date!, $first: Int, $after: String) {
    org(id: $id) {
      usage(from: $from, to: $to) {
        from to plan dailyLimit usedToday messageCount promptTokens completionTokens
        records(first: $first, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { cursor node { id day model messageCount promptTokens completionTokens user { id } } }
        }
      }
    }
  }
`);
const ThreadCount = graphql(`query UsageThreadCount($id: ID!) { thread(id: $id) { messageCount } }`);
const SessionCount = graphql(`query UsageSessionCount($id: ID!) { thread(id: $id) { sessions { edges { node { index } } } } }`);

let server: TestServer;
beforeAll(async () => {
  // Small limits so a test can exhaust them; TEAM stays unlimited (0).
  server = await startServer({ overrides: { plans: { free: 3, pro: 5, team: 0 }, models: { allowed: ['echo', 'echo-b'] }, sessions: { tokenBudget: 10 } } });
});

const today = () => new Date().toISOString().slice(0, 10);
const range = () => ({ from: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), to: today() });
const UsageNode = graphql(`query UsageRecordNode($id: ID!) { node(id: $id) { __typename id ... on UsageRecord { model messageCount } } }`);
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1];

describe('plans and quotas', () => {
  it('FREE stops at its daily limit with RATE_LIMITED and a clear message, storing nothing more', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const t = await createThread(server, owner.token, org.id);
    const t2 = await createThread(server, owner.token, org.id);
    await send(server, { token: owner.token }, t.id, 'one');
    await send(server, { token: owner.token }, t.id, 'two', { model: 'echo-b' });
    await send(server, { token: owner.token }, t2.id, 'three');
    const res = await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'four' } }, { token: owner.token });
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect(res.errors?.[0].message).toMatch(/FREE plan allows 3 messages a day/);
    expect((res.errors?.[0].extensions as { retryAfter: number }).retryAfter).toBeGreaterThan(0);
    expect((await server.ok(ThreadCount, { id: t.id }, { token: owner.token })).thread!.messageCount).toBe(4);
    // The quota is the org's, whoever sends.
    const theirs = await createThread(server, members[0].token, org.id);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: theirs.id, content: 'x' } }, { token: members[0].token })).toBe('RATE_LIMITED');

    const o = (await server.ok(Usage, { id: org.id, ...range() }, { token: owner.token })).org!;
    expect(o.usage).toMatchObject({ plan: 'FREE', dailyLimit: 3, usedToday: 3, messageCount: 3, to: today() });
    expect(o.usage!.records.edges.map(({ node: r }) => [r.day, r.model, r.messageCount, r.user?.id])).toEqual([
      [today(), 'echo', 2, owner.id],
      [today(), 'echo-b', 1, owner.id],
    ]);
    expect(o.usage!.records.totalCount).toBe(2);
    // A page at a time, in the same order, and each record a node its org's admins can fetch again.
    const first = (await server.ok(Usage, { id: org.id, ...range(), first: 1 }, { token: owner.token })).org!.usage!.records;
    expect(first).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true }, edges: [{ node: { model: 'echo' } }] });
    const second = (await server.ok(Usage, { id: org.id, ...range(), first: 1, after: first.pageInfo.endCursor }, { token: owner.token })).org!.usage!.records;
    expect(second).toMatchObject({ pageInfo: { hasNextPage: false }, edges: [{ node: { model: 'echo-b' } }] });
    const record = first.edges[0].node;
    expect((await server.ok(UsageNode, { id: record.id }, { token: owner.token })).node).toMatchObject({ __typename: 'UsageRecord', id: record.id, messageCount: 2 });
    // To a plain member (and to anyone outside the org) the record is as missing as an unknown id.
    expect(await server.errorCode(UsageNode, { id: record.id }, { token: members[0].token })).toBe('NOT_FOUND');
    const { owner: outsider } = await orgWithMembers(server);
    expect(await server.errorCode(UsageNode, { id: record.id }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(o.usage!.completionTokens).toBe(1 + 1 + 2); // echo: one, two, three
    expect(o.usage!.promptTokens).toBeGreaterThan(0);
  });

  it('concurrent sends in one org: exactly the limit succeeds, the rest are RATE_LIMITED, none fails (conflicts are retried)', async () => {
    const { org, owner } = await orgWithMembers(server);
    const threads = await Promise.all(Array.from({ length: 6 }, () => createThread(server, owner.token, org.id)));
    // On PostgreSQL the quota transactions conflict (40001 at COMMIT) and must be retried, not surface.
    const results = await Promise.all(threads.map((t, i) => server.gql(ChatSendDoc, { input: { threadId: t.id, content: `race ${i}` } }, { token: owner.token })));
    const outcomes = results.map((r) => (r.data?.sendThreadMessage ? 'ok' : String(r.errors?.[0]?.extensions?.code)));
    expect(outcomes.filter((o) => o === 'ok').length, JSON.stringify(results.map((r) => r.errors))).toBe(3);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('PRO has its own limit and TEAM is unlimited', async () => {
    const pro = await orgWithMembers(server);
    await db.org.update({ where: { id: rawId(pro.org.id) }, data: { plan: 'PRO' } });
    const t = await createThread(server, pro.owner.token, pro.org.id);
    for (let i = 0; i < 5; i++) await send(server, { token: pro.owner.token }, t.id, `m${i}`);
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: t.id, content: 'over' } }, { token: pro.owner.token })).toBe('RATE_LIMITED');

    const team = await orgWithMembers(server);
    await db.org.update({ where: { id: rawId(team.org.id) }, data: { plan: 'TEAM' } });
    const tt = await createThread(server, team.owner.token, team.org.id);
    for (let i = 0; i < 7; i++) await send(server, { token: team.owner.token }, tt.id, `m${i}`);
    const { org } = await server.ok(Usage, { id: team.org.id, ...range() }, { token: team.owner.token });
    expect(org!.usage).toMatchObject({ plan: 'TEAM', dailyLimit: null, usedToday: 7 });
  });

  it('a refused message changes nothing (no session rotation), and a retry still gets its original', async () => {
    const { org, owner } = await orgWithMembers(server);
    const t = await createThread(server, owner.token, org.id);
    await send(server, { token: owner.token }, t.id, 'a long enough first message to fill the budget', { clientMsgId: 'm1' });
    await send(server, { token: owner.token }, t.id, 'another long enough message to fill the budget');
    await send(server, { token: owner.token }, t.id, 'and a third long enough message for the budget');
    const before = (await server.ok(SessionCount, { id: t.id }, { token: owner.token })).thread!.sessions.edges.length;
    expect(await server.errorCode(ChatSendDoc, { input: { threadId: t.id, content: 'refused' } }, { token: owner.token })).toBe('RATE_LIMITED');
    expect((await server.ok(SessionCount, { id: t.id }, { token: owner.token })).thread!.sessions.edges).toHaveLength(before);
    const retry = await send(server, { token: owner.token }, t.id, 'a long enough first message to fill the budget', { clientMsgId: 'm1' });
    expect(retry.deduplicated).toBe(true);
  });

  it('counts a retried clientMsgId once', async () => {
    const { org, owner } = await orgWithMembers(server);
    const t = await createThread(server, owner.token, org.id);
    for (let i = 0; i < 4; i++) await send(server, { token: owner.token }, t.id, 'same', { clientMsgId: 'retry-1' });
    const o = (await server.ok(Usage, { id: org.id, ...range() }, { token: owner.token })).org!;
    expect(o.usage!.usedToday).toBe(1);
  });

  it('usage is for admins and READ API keys; bad ranges are refused', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    expect(await server.errorCode(Usage, { id: org.id, ...range() }, { token: members[0].token })).toBe('FORBIDDEN');
    const key = await createApiKey(server, owner, org.id, ['READ']);
    await server.ok(Usage, { id: org.id, ...range() }, { apiKey: key.key });
    const r = range();
    expect(await server.errorCode(Usage, { id: org.id, from: r.to, to: r.from }, { token: owner.token })).toBe('BAD_USER_INPUT');
    // 366 days (both ends included) is the most; a day that does not exist, or an instant, is not a Date.
    await server.ok(Usage, { id: org.id, from: '2025-01-01', to: '2026-01-01' }, { token: owner.token });
    expect(await server.errorCode(Usage, { id: org.id, from: '2025-01-01', to: '2026-01-02' }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Usage, { id: org.id, from: '2025-02-30', to: '2025-03-01' }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Usage, { id: org.id, from: '2025-01-01', to: '2025-13-01' }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Usage, { id: org.id, from: '2025-01-01T00:00:00Z', to: '2025-01-02' }, { token: owner.token })).toBe('BAD_USER_INPUT');
  });
});
