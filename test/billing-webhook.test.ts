import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send, ChatSendDoc } from './helpers/chat.ts';
import { orgWithMembers } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { signBillingPayload } from '../src/modules/billing/billing.service.ts';
import { loadConfig } from '../src/config.ts';

const SetPlan = graphql(`mutation BwSetPlan($input: SetOrgPlanInput!) { setOrgPlan(input: $input) { id plan } }`);
const OrgPlan = graphql(`query BwOrgPlan($id: ID!) { org(id: $id) { plan } }`);

const SECRET = 'whsec_test_0123456789abcdef';
let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { plans: { free: 1 }, billing: { mode: 'webhook', webhookSecret: SECRET, webhookToleranceSec: 300 } } });
});

const post = (body: string, signature?: string) =>
  fetch(`${server.origin}/billing/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'confab-signature': signature } : {}) },
    body,
  });
const event = (orgId: string, plan: string, id = `evt_${Math.random().toString(36).slice(2)}`) =>
  JSON.stringify({ id, type: 'org.plan_changed', orgId, plan });

describe('POST /billing/webhook (billing mode webhook)', () => {
  it('a signed event upgrades the plan and the next request is allowed', async () => {
    const { org, owner } = await orgWithMembers(server, 0);
    const t = await createThread(server, owner.token, org.id);
    await send(server, { token: owner.token }, t.id, 'one');
    expect((await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'two' } }, { token: owner.token })).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    const body = event(org.id, 'PRO', 'evt_upgrade');
    const res = await post(body, signBillingPayload(SECRET, body));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ applied: true, duplicate: false });
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('PRO');
    expect((await send(server, { token: owner.token }, t.id, 'two')).assistantMessage.status).toBe('COMPLETE');

    // The same event again (a replay within the window, or a provider retry) is not applied twice.
    const down = event(org.id, 'FREE', 'evt_down');
    expect((await post(down, signBillingPayload(SECRET, down))).status).toBe(200);
    const replay = await post(body, signBillingPayload(SECRET, body));
    expect(await replay.json()).toEqual({ applied: false, duplicate: true });
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('FREE');
  });

  it('refuses unsigned, mis-signed, stale and malformed calls, changing nothing', async () => {
    const { org, owner } = await orgWithMembers(server, 0);
    const body = event(org.id, 'ENTERPRISE');
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, string | undefined, number][] = [
      [body, undefined, 400],
      [body, 'garbage', 400],
      [body, `t=${now}`, 400],
      [body, signBillingPayload('another-secret-0123456789', body), 401],
      [body, signBillingPayload(SECRET, body.replace('ENTERPRISE', 'TEAM')), 401],
      [body, signBillingPayload(SECRET, body, now - 400), 401],
      [body, signBillingPayload(SECRET, body, now + 400), 401],
      ['not json', signBillingPayload(SECRET, 'not json'), 400],
      [event(org.id, 'GOLD'), signBillingPayload(SECRET, event(org.id, 'GOLD', 'e1').replace('"e1"', '"e1"')), 401],
    ];
    for (const [b, sig, status] of cases) expect((await post(b, sig)).status, `${sig} ${b}`).toBe(status);
    const gold = JSON.stringify({ id: 'e2', type: 'org.plan_changed', orgId: org.id, plan: 'GOLD' });
    expect((await post(gold, signBillingPayload(SECRET, gold))).status).toBe(400);
    const noType = JSON.stringify({ id: 'e3', orgId: org.id, plan: 'PRO' });
    expect((await post(noType, signBillingPayload(SECRET, noType))).status).toBe(400);
    const unknown = event('cnonexistent000', 'PRO');
    expect((await post(unknown, signBillingPayload(SECRET, unknown))).status).toBe(404);
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('FREE');
    // A raw org id works as well as a global one; an extra v1 entry (secret rotation) is accepted.
    const raw = Buffer.from(org.id, 'base64').toString().split(':')[1];
    const rawBody = event(raw, 'TEAM');
    const sig = signBillingPayload(SECRET, rawBody);
    expect((await post(rawBody, `${sig},v1=${'0'.repeat(64)}`)).status).toBe(200);
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('TEAM');
  });

  it('setOrgPlan is refused while the provider manages plans', async () => {
    const { org, owner } = await orgWithMembers(server, 0);
    const res = await server.gql(SetPlan, { input: { orgId: org.id, plan: 'PRO' } }, { token: owner.token });
    expect(res.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'BILLING_MANAGED' });
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('FREE');
  });

  it('config: webhook mode needs a secret', () => {
    expect(() => loadConfig({ env: { CONFAB_BILLING_MODE: 'webhook' }, file: false })).toThrow(/webhook_secret/);
    expect(loadConfig({ env: { CONFAB_BILLING_MODE: 'webhook', CONFAB_BILLING_WEBHOOK_SECRET: SECRET }, file: false }).billing.mode).toBe('webhook');
  });
});
