import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { graphql } from './gql/index.ts';
import { ChatSendDoc, createThread, send } from './helpers/chat.ts';
import { addMember, createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { kvWorld } from './helpers/kv.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const SetPlan = graphql(`mutation PlanModelsSetPlan($input: SetOrgPlanInput!) { setOrgPlan(input: $input) { id plan } }`);
const OrgModels = graphql(`query PlanModelsOrg($id: ID!) { org(id: $id) { plan models { name isDefault provider } } }`);
const ServerModels = graphql(`query PlanModelsServer { models { name } }`);
const Transform = graphql(`mutation PlanModelsTransform($input: TransformKvInput!) { transformKv(input: $input) { name value } }`);

// Free may use `echo` and the `echo-m…` family; Pro (unset) all of `models.allowed`.
let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    overrides: {
      models: { default: 'echo', allowed: ['echo', 'echo-mini', 'echo-max', 'echo-pro'] },
      plans: { free: { messagesPerDay: 100, models: ['echo', 'echo-m*'] } },
    },
  });
});

const names = (models: { name: string }[]) => models.map((m) => m.name);

/** POSTs a chat completion with an API key: status and body. */
async function complete(key: string, model: string) {
  const res = await fetch(`${server.origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function v1Models(key: string) {
  const res = await fetch(`${server.origin}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

describe('models per plan', () => {
  it("lists what the org's plan allows (Org.models), while `models` lists the server's", async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    expect(names((await server.ok(ServerModels, {}, { token: owner.token })).models)).toEqual(['echo', 'echo-mini', 'echo-max', 'echo-pro']);
    const free = (await server.ok(OrgModels, { id: org.id }, { token: members[0].token })).org!;
    expect(free).toMatchObject({ plan: 'FREE', models: [{ name: 'echo', isDefault: true, provider: 'echo' }, { name: 'echo-mini' }, { name: 'echo-max' }] });
    expect(names(free.models)).toEqual(['echo', 'echo-mini', 'echo-max']);
    await server.ok(SetPlan, { input: { orgId: org.id, plan: 'PRO' } }, { token: owner.token });
    expect(names((await server.ok(OrgModels, { id: org.id }, { token: owner.token })).org!.models)).toEqual(['echo', 'echo-mini', 'echo-max', 'echo-pro']);
    // Another org's models are as invisible as the org.
    const stranger = await registerUser(server);
    expect(await server.errorCode(OrgModels, { id: org.id }, { token: stranger.token })).toBe('NOT_FOUND');
  });

  it('refuses a thread message naming a model outside the plan (FORBIDDEN, MODEL_NOT_IN_PLAN), storing nothing', async () => {
    const { org, owner } = await orgWithMembers(server);
    const thread = await createThread(server, owner.token, org.id);
    const refused = await server.gql(ChatSendDoc, { input: { threadId: thread.id, content: 'hi', model: 'echo-pro' } }, { token: owner.token });
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MODEL_NOT_IN_PLAN', plan: 'FREE', model: 'echo-pro' });
    // Exact names and prefixes of the plan pass; nothing of the refused message was stored.
    expect((await send(server, { token: owner.token }, thread.id, 'exact', { model: 'echo' })).userMessage.seq).toBe(1);
    expect((await send(server, { token: owner.token }, thread.id, 'prefix', { model: 'echo-max' })).assistantMessage).toMatchObject({ status: 'COMPLETE', model: 'echo-max' });
    // A model the server does not allow stays BAD_USER_INPUT, whatever the plan.
    const unknown = await server.gql(ChatSendDoc, { input: { threadId: thread.id, content: 'hi', model: 'gpt-9' } }, { token: owner.token });
    expect(unknown.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // Upgraded, the org may use it at once.
    await server.ok(SetPlan, { input: { orgId: org.id, plan: 'PRO' } }, { token: owner.token });
    expect((await send(server, { token: owner.token }, thread.id, 'pro', { model: 'echo-pro' })).assistantMessage.model).toBe('echo-pro');
  });

  it("refuses it on the OpenAI-compatible API with the API's own 403, and /v1/models lists the plan's", async () => {
    const { org, owner } = await orgWithMembers(server);
    const { key } = await createApiKey(server, owner, org.id, ['CHAT']);
    const refused = await complete(key, 'echo-pro');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'permission_error', code: 'model_not_in_plan', message: expect.stringContaining('echo-pro') });
    expect((await complete(key, 'echo-mini')).status).toBe(200);
    expect((await complete(key, 'nope')).status).toBe(404);
    expect(await v1Models(key)).toEqual(['echo', 'echo-mini', 'echo-max']);
    await server.ok(SetPlan, { input: { orgId: org.id, plan: 'PRO' } }, { token: owner.token });
    expect((await complete(key, 'echo-pro')).status).toBe(200);
    expect(await v1Models(key)).toEqual(['echo', 'echo-mini', 'echo-max', 'echo-pro']);
  });

  it('refuses it for KV AI operations', async () => {
    const w = await kvWorld(server);
    const input = { kvInstanceId: w.instanceId, template: 'hello', outputKey: 'out' };
    const refused = await server.gql(Transform, { input: { ...input, model: 'echo-pro' } }, w.actors.writer);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MODEL_NOT_IN_PLAN' });
    expect((await server.ok(Transform, { input: { ...input, model: 'echo-mini' } }, w.actors.writer)).transformKv.name).toBe('out');
  });

  it('a member of a Pro org is not restricted by a Free org they also belong to', async () => {
    const pro = await orgWithMembers(server);
    await server.ok(SetPlan, { input: { orgId: pro.org.id, plan: 'PRO' } }, { token: pro.owner.token });
    const free = await orgWithMembers(server);
    await addMember(server, free.org.id, free.owner, pro.owner);
    const proThread = await createThread(server, pro.owner.token, pro.org.id);
    const freeThread = await createThread(server, pro.owner.token, free.org.id);
    expect((await send(server, { token: pro.owner.token }, proThread.id, 'ok', { model: 'echo-pro' })).assistantMessage.model).toBe('echo-pro');
    const refused = await server.gql(ChatSendDoc, { input: { threadId: freeThread.id, content: 'no', model: 'echo-pro' } }, { token: pro.owner.token });
    expect(refused.errors?.[0].extensions?.reason).toBe('MODEL_NOT_IN_PLAN');
  });
});

describe('[plans] configuration', () => {
  const load = (plans: Record<string, unknown>, env: Record<string, string> = {}) => loadConfig({ env, file: false, overrides: { plans } as never }).plans;

  it('restricts no plan by default; the number form is still messages per day', () => {
    const plans = load({ free: 5 });
    expect(plans.free).toEqual({ messagesPerDay: 5 });
    for (const plan of Object.values(plans)) expect(plan.models).toBeUndefined();
  });

  it('takes models as a list or a comma-separated string', () => {
    expect(load({ free: { models: 'echo*, gpt-4o-mini' } }).free).toEqual({ messagesPerDay: 100, models: ['echo*', 'gpt-4o-mini'] });
    expect(load({ pro: { models: ['gpt-4o*'], messagesPerDay: 10 } }).pro).toEqual({ messagesPerDay: 10, models: ['gpt-4o*'] });
  });
});
