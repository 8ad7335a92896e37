import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { ApiKey } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import { API_KEY_SCOPES, createApiKey, revokeApiKey } from './apikeys.service.ts';

const ApiKeyScope = builder.enumType('ApiKeyScope', {
  description: 'What an API key may do in its org.',
  values: {
    READ: { description: 'Read the org and everything in it.' },
    WRITE: { description: 'Create and change content (messages, threads) in the org.' },
    NOTIFY: { description: 'Send notifications to members.' },
    CHAT: { description: 'Use AI models (GraphQL chat and the OpenAI-compatible API).' },
    ACT_AS: {
      description:
        "Act as a member of the org in room operations, naming them with the `X-Acting-User` header (their global User ID): for backends that proxy their users. Org-wide keys only.",
    },
  } satisfies Record<(typeof API_KEY_SCOPES)[number], unknown>,
});

const ApiKeyRef = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  description:
    "A key for a backend to call the API as the org (`Authorization: Bearer cfk_…`), limited to its scopes. Visible to the org's ADMINs and " +
    "OWNERs, and a project's keys to that project's ADMINs; the secret itself only once, when it is created.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'A label chosen by its creator.' }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    scopes: t.field({ type: [ApiKeyScope], description: 'What the key may do.', resolve: (k) => k.scopes as (typeof API_KEY_SCOPES)[number][] }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'When the key last authenticated a request; null if never.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When it was revoked (it no longer works); null while it is active.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    createdBy: t.relation('createdBy', { description: 'The admin who created it.' }),
    org: t.relation('org', { description: 'The org the key acts for.' }),
    project: t.relation('project', { nullable: true, description: 'Set for a key limited to one project.' }),
  }),
});

builder.prismaObjectField('Org', 'apiKeys', (t) =>
  t.relatedConnection('apiKeys', {
    cursor: 'id',
    description: 'API keys of the org, newest first (ADMIN and OWNER only).',
    query: { orderBy: { createdAt: 'desc' } },
  }, { name: 'ApiKeyConnection', description: 'A page of API keys.' }, { name: 'ApiKeyEdge', description: 'An API key and its cursor.' }),
);

const CreateApiKeyPayload = builder.objectRef<{ apiKey: ApiKey; key: string }>('CreateApiKeyPayload').implement({
  description: 'A new API key and its secret.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, description: 'The key.', resolve: (p) => p.apiKey }),
    key: t.exposeString('key', { description: 'The secret (`cfk_…`), shown only this once.' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: 'A new API key.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org the key acts for.' }),
    name: t.string({ required: true, description: 'A label, to tell keys apart.' }),
    scopes: t.field({ type: [ApiKeyScope], required: true, description: 'What the key may do (at least one; ACT_AS only on org-wide keys).' }),
    projectId: t.id({ description: "Limit the key to this project of the org: it reaches that project's threads only." }),
  }),
});
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  description: 'The API key to revoke.',
  fields: (t) => ({ apiKeyId: t.id({ required: true, description: 'A key you manage.' }) }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description:
      "Creates an API key (org ADMINs and OWNERs; a project's ADMINs for keys limited to that project). The secret is in the payload, only this once.",
    args: { input: t.arg({ type: CreateApiKeyInput, required: true, description: 'The key to create.' }) },
    resolve: (_root, { input }, ctx) =>
      createApiKey(ctx, idOf(input.orgId, 'Org', 'orgId'), input.projectId ? idOf(input.projectId, 'Project', 'projectId') : null, input),
  }),
  revokeApiKey: t.prismaField({
    type: 'ApiKey',
    description: 'Revokes an API key: it stops working at once, on every instance. Revoking twice keeps the first time.',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true, description: 'The key.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const key = await revokeApiKey(ctx.app, idOf(input.apiKeyId, 'ApiKey', 'apiKeyId'));
      return db.apiKey.findUniqueOrThrow({ ...query, where: { id: key.id } });
    },
  }),
}));
