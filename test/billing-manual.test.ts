import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import { createThread, send, ChatSendDoc } from './helpers/chat.ts';
import { addMember, createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { signBillingPayload } from '../src/modules/billing/billing.service.ts';

const SetPlan = graphql(`mutation BmSetPlan($input: SetOrgPlanInput!) { setOrgPlan(input: $input) { id plan } }`);
const OrgPlan = graphql(`query BmOrgPlan($id: ID!) { org(id: $id) { plan } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { plans: { free: 2, pro: 3 } } });
});

describe('setOrgPlan (billing mode manual)', () => {
  it('an OWNER changes the plan and the quota follows at once', async () => {
    const { org, owner } = await orgWithMembers(server, 0);
    const t = await createThread(server, owner.token, org.id);
    await send(server, { token: owner.token }, t.id, 'one');
    await send(server, { token: owner.token }, t.id, 'two');
    const refused = await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'three' } }, { token: owner.token });
    expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    expect((await server.ok(SetPlan, { input: { orgId: org.id, plan: 'PRO' } }, { token: owner.token })).setOrgPlan.plan).toBe('PRO');
    expect((await send(server, { token: owner.token }, t.id, 'three')).assistantMessage.status).toBe('COMPLETE');
    expect((await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'four' } }, { token: owner.token })).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
    await server.ok(SetPlan, { input: { orgId: org.id, plan: 'TEAM' } }, { token: owner.token });
    expect((await send(server, { token: owner.token }, t.id, 'four')).assistantMessage.status).toBe('COMPLETE');
    await server.ok(SetPlan, { input: { orgId: org.id, plan: 'FREE' } }, { token: owner.token });
    expect((await server.gql(ChatSendDoc, { input: { threadId: t.id, content: 'five' } }, { token: owner.token })).errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  });

  it('is refused to ADMINs, members, outsiders, API keys and anonymous callers; bad input changes nothing', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const admin = await registerUser(server);
    await addMember(server, org.id, owner, admin, 'ADMIN');
    const outsider = await registerUser(server);
    const key = await createApiKey(server, owner, org.id, ['READ', 'WRITE']);
    const input = { orgId: org.id, plan: 'ENTERPRISE' as const };
    expect(await server.errorCode(SetPlan, { input }, { token: admin.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(SetPlan, { input }, { token: members[0].token })).toBe('FORBIDDEN');
    expect(await server.errorCode(SetPlan, { input }, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(SetPlan, { input }, { apiKey: key.key })).toBe('FORBIDDEN');
    expect(await server.errorCode(SetPlan, { input })).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(SetPlan, { input: { ...input, orgId: 'nope' } }, { token: owner.token })).toBe('BAD_USER_INPUT');
    expect((await server.gql(SetPlan, { input: { ...input, plan: 'GOLD' as never } }, { token: owner.token })).errors?.length).toBe(1);
    expect((await server.ok(OrgPlan, { id: org.id }, { token: owner.token })).org!.plan).toBe('FREE');
  });

  it('the webhook is off in manual mode', async () => {
    const { org } = await orgWithMembers(server, 0);
    const body = JSON.stringify({ id: 'evt_1', type: 'org.plan_changed', orgId: org.id, plan: 'PRO' });
    const res = await fetch(`${server.origin}/billing/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'confab-signature': signBillingPayload('x'.repeat(32), body) },
      body,
    });
    expect(res.status).toBe(404);
  });
});
