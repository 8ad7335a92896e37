import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from './gql/index.ts';
import type { Doc } from './helpers/client.ts';
import { addMember, createApiKey, orgWithMembers, registerUser } from './helpers/fixtures.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const Create = graphql(`
  mutation WebhooksCreate($input: CreateWebhookInput!) {
    createWebhook(input: $input) { secret webhook { id url events enabled description secretLast4 org { id } } }
  }
`);
const Update = graphql(`
  mutation WebhooksUpdate($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id url events enabled description } }
`);
const Rotate = graphql(`
  mutation WebhooksRotate($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { secret webhook { secretLast4 } } }
`);
const Delete = graphql(`mutation WebhooksDelete($input: DeleteWebhookInput!) { deleteWebhook(input: $input) { deletedId } }`);
const List = graphql(`
  query WebhooksList($id: ID!) { org(id: $id) { webhooks(first: 50) { edges { node { id url events enabled } } } } }
`);
const Node = graphql(`query WebhooksNode($id: ID!) { node(id: $id) { id ... on Webhook { url } } }`);

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ overrides: { webhooks: { allowPrivate: true, maxPerOrg: 3 } } });
});

const input = (orgId: string, extra: Record<string, unknown> = {}) => ({
  orgId,
  url: 'http://127.0.0.1:9/hooks',
  events: ['ROOM_MESSAGE_ADDED' as const, 'MEMBER_JOINED' as const],
  ...extra,
});
const count = async (orgId: string, token: string) => (await server.ok(List, { id: orgId }, { token })).org!.webhooks.edges.length;

describe('managing webhooks', () => {
  it('creates a webhook with a secret shown once, lists it, updates, disables, rotates and deletes it', async () => {
    const { org, owner } = await orgWithMembers(server);
    const { createWebhook } = await server.ok(Create, { input: input(org.id, { description: 'crm' }) }, { token: owner.token });
    expect(createWebhook.secret).toMatch(/^whsec_[\w-]{40,}$/);
    expect(createWebhook.webhook).toMatchObject({ url: 'http://127.0.0.1:9/hooks', events: ['ROOM_MESSAGE_ADDED', 'MEMBER_JOINED'], enabled: true, description: 'crm', secretLast4: createWebhook.secret.slice(-4), org: { id: org.id } });
    const id = createWebhook.webhook.id;
    const listed = await server.ok(List, { id: org.id }, { token: owner.token });
    expect(listed.org!.webhooks.edges.map((e) => e.node.id)).toEqual([id]);
    expect(JSON.stringify(listed)).not.toContain(createWebhook.secret.slice(6, 20));

    const { updateWebhook } = await server.ok(Update, { input: { webhookId: id, events: ['MEMBER_LEFT'], enabled: false, description: null } }, { token: owner.token });
    expect(updateWebhook).toMatchObject({ events: ['MEMBER_LEFT'], enabled: false, description: null, url: 'http://127.0.0.1:9/hooks' });
    const again = await server.ok(Update, { input: { webhookId: id, enabled: true, url: 'https://example.com/x' } }, { token: owner.token });
    expect(again.updateWebhook).toMatchObject({ enabled: true, url: 'https://example.com/x', events: ['MEMBER_LEFT'] });

    const { rotateWebhookSecret } = await server.ok(Rotate, { input: { webhookId: id } }, { token: owner.token });
    expect(rotateWebhookSecret.secret).not.toBe(createWebhook.secret);
    expect(rotateWebhookSecret.webhook.secretLast4).toBe(rotateWebhookSecret.secret.slice(-4));
    const own = await server.ok(Rotate, { input: { webhookId: id, secret: 'my-own-secret-0123456789' } }, { token: owner.token });
    expect(own.rotateWebhookSecret).toMatchObject({ secret: 'my-own-secret-0123456789', webhook: { secretLast4: '6789' } });

    expect((await server.ok(Delete, { input: { webhookId: id } }, { token: owner.token })).deleteWebhook.deletedId).toBe(id);
    expect(await server.errorCode(Node, { id }, { token: owner.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Delete, { input: { webhookId: id } }, { token: owner.token })).toBe('NOT_FOUND');
  });

  it('accepts a secret of your own and ADMINs as well as OWNERs', async () => {
    const { org, owner } = await orgWithMembers(server);
    const admin = await registerUser(server);
    await addMember(server, org.id, owner, admin, 'ADMIN');
    const { createWebhook } = await server.ok(Create, { input: input(org.id, { secret: 'a-secret-of-mine-1234' }) }, { token: admin.token });
    expect(createWebhook.secret).toBe('a-secret-of-mine-1234');
  });

  it('refuses bad input with BAD_USER_INPUT and creates nothing', async () => {
    const { org, owner } = await orgWithMembers(server);
    const auth = { token: owner.token };
    for (const bad of [
      { url: 'not a url' },
      { url: 'ftp://example.com/x' },
      { url: 'javascript:alert(1)' },
      { url: 'https://user:pass@example.com/x' },
      { url: `https://example.com/${'x'.repeat(2100)}` },
      { events: [] },
      { secret: 'short' },
      { secret: 'has spaces in the secret' },
      { description: 'd'.repeat(201) },
    ]) {
      const res = await server.gql(Create, { input: input(org.id, bad) }, auth);
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(bad)).toBe('BAD_USER_INPUT');
    }
    expect(await server.errorCode(Create, { input: { ...input(org.id), events: ['NO_SUCH_EVENT' as never] } }, auth)).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Create, { input: input('not-an-id') }, auth)).toBe('BAD_USER_INPUT');
    expect(await count(org.id, owner.token)).toBe(0);

    const { createWebhook } = await server.ok(Create, { input: input(org.id) }, auth);
    const id = createWebhook.webhook.id;
    expect(await server.errorCode(Update, { input: { webhookId: id, url: 'gopher://x' } }, auth)).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Update, { input: { webhookId: id, events: [] } }, auth)).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Rotate, { input: { webhookId: id, secret: 'tiny' } }, auth)).toBe('BAD_USER_INPUT');
    expect(await server.errorCode(Update, { input: { webhookId: org.id, enabled: false } }, auth)).toBe('BAD_USER_INPUT');
    const { node } = await server.ok(Node, { id }, auth);
    expect(node).toMatchObject({ url: 'http://127.0.0.1:9/hooks' });
  });

  it('caps webhooks per org (webhooks.max_per_org) with CONFLICT', async () => {
    const { org, owner } = await orgWithMembers(server);
    for (let i = 0; i < 3; i++) await server.ok(Create, { input: input(org.id) }, { token: owner.token });
    expect(await server.errorCode(Create, { input: input(org.id) }, { token: owner.token })).toBe('CONFLICT');
    expect(await count(org.id, owner.token)).toBe(3);
  });
});

describe('who may manage webhooks', () => {
  it('refuses members, outsiders, anonymous callers and API keys, by every route and any id', async () => {
    const { org, owner, members } = await orgWithMembers(server, 1);
    const member = members[0];
    const outsider = (await orgWithMembers(server)).owner;
    const { key: orgKey } = await createApiKey(server, owner, org.id, ['READ', 'WRITE', 'NOTIFY', 'CHAT']);
    const other = await orgWithMembers(server);
    const { key: otherKey } = await createApiKey(server, other.owner, other.org.id, ['READ', 'WRITE']);
    const { createWebhook } = await server.ok(Create, { input: input(org.id) }, { token: owner.token });
    const id = createWebhook.webhook.id;

    const create = { input: input(org.id) };
    expect(await server.errorCode(Create, create, { token: member.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(Create, create, { token: outsider.token })).toBe('NOT_FOUND');
    expect(await server.errorCode(Create, create)).toBe('UNAUTHENTICATED');
    expect(await server.errorCode(Create, create, { apiKey: orgKey })).toBe('FORBIDDEN');
    expect(await server.errorCode(Create, create, { apiKey: otherKey })).toBe('NOT_FOUND');

    const refused = async <R, V>(doc: Doc<R, V>, vars: V) => {
      expect(await server.errorCode(doc, vars, { token: member.token })).toBe('FORBIDDEN');
      expect(await server.errorCode(doc, vars, { token: outsider.token })).toBe('NOT_FOUND');
      expect(await server.errorCode(doc, vars, { apiKey: orgKey })).toBe('FORBIDDEN');
      expect(await server.errorCode(doc, vars, { apiKey: otherKey })).toBe('NOT_FOUND');
      expect(await server.errorCode(doc, vars)).toBe('UNAUTHENTICATED');
    };
    await refused(Update, { input: { webhookId: id, enabled: false } });
    await refused(Rotate, { input: { webhookId: id } });
    await refused(Delete, { input: { webhookId: id } });
    for (const auth of [{ token: member.token }, { token: outsider.token }, { apiKey: orgKey }, { apiKey: otherKey }, {}]) {
      expect((await server.gql(Node, { id }, auth)).data?.node ?? null).toBeNull();
    }
    expect(await server.errorCode(List, { id: org.id }, { token: member.token })).toBe('FORBIDDEN');
    expect(await server.errorCode(List, { id: org.id }, { apiKey: orgKey })).toBe('FORBIDDEN');
    expect(await server.errorCode(List, { id: org.id }, { token: outsider.token })).toBe('NOT_FOUND');
    // Nothing changed.
    const { node } = await server.ok(Node, { id }, { token: owner.token });
    expect(node).toMatchObject({ id });
    expect((await server.ok(List, { id: org.id }, { token: owner.token })).org!.webhooks.edges[0].node.enabled).toBe(true);
  });
});
