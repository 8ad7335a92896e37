import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import type { ApiKey } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import { API_KEY_SCOPES, createApiKey, revokeApiKey } from './apikeys.service.ts';

const ApiKeyScope = builder.enumType('ApiKeyScope', {
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
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
    scopes: t.field({ type: [ApiKeyScope], resolve: (k) => k.scopes as (typeof API_KEY_SCOPES)[number][] }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.relation('createdBy'),
    org: t.relation('org'),
    project: t.relation('project', { nullable: true, description: 'Set for a key limited to one project.' }),
  }),
});

builder.prismaObjectField('Org', 'apiKeys', (t) =>
  t.relatedConnection('apiKeys', {
    cursor: 'id',
    description: 'API keys of the org, newest first (ADMIN and OWNER only).',
    query: { orderBy: { createdAt: 'desc' } },
  }),
);

const CreateApiKeyPayload = builder.objectRef<{ apiKey: ApiKey; key: string }>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (p) => p.apiKey }),
    key: t.exposeString('key', { description: 'The secret (`cfk_…`), shown only this once.' }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    name: t.string({ required: true }),
    scopes: t.field({ type: [ApiKeyScope], required: true }),
    projectId: t.id({ description: "Limit the key to this project of the org: it reaches that project's threads only." }),
  }),
});
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createApiKey(ctx, idOf(input.orgId, 'Org', 'orgId'), input.projectId ? idOf(input.projectId, 'Project', 'projectId') : null, input),
  }),
  revokeApiKey: t.prismaField({
    type: 'ApiKey',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const key = await revokeApiKey(ctx.app, idOf(input.id, 'ApiKey'));
      return db.apiKey.findUniqueOrThrow({ ...query, where: { id: key.id } });
    },
  }),
}));
