import { encodeGlobalID } from '@pothos/plugin-relay';
import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { addProviderKey, removeProviderKey } from './providerkeys.service.ts';

const ProviderKeyRef = builder.prismaNode('ProviderKey', {
  id: { field: 'id' },
  description: 'An LLM provider key of an org (BYOK). The key itself is never readable: only its last 4 characters.',
  select: { id: true, orgId: true, provider: true, last4: true, createdAt: true, updatedAt: true },
  fields: (t) => ({
    provider: t.exposeString('provider', { description: 'The provider it is for (`openai`).' }),
    last4: t.exposeString('last4', { description: 'The last 4 characters of the key, to tell keys apart.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the first key for this provider was added.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the key was last replaced.' }),
  }),
});

const AddProviderKeyInput = builder.inputType('AddProviderKeyInput', {
  description: "A provider key for the org's AI requests.",
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org (you must be ADMIN or OWNER there).' }),
    provider: t.string({ required: true, description: 'openai (any OpenAI-compatible API).' }),
    key: t.string({ required: true, description: 'Stored encrypted; replaces the org’s key for this provider.' }),
  }),
});
const RemoveProviderKeyInput = builder.inputType('RemoveProviderKeyInput', {
  description: 'The provider key to remove.',
  fields: (t) => ({ providerKeyId: t.id({ required: true, description: 'A provider key of an org you administer.' }) }),
});
const RemoveProviderKeyPayload = builder.simpleObject('RemoveProviderKeyPayload', {
  description: 'The provider key removed by `removeProviderKey`.',
  fields: (t) => ({ deletedId: t.id({ description: 'The ID of the ProviderKey that is gone.' }) }),
});

builder.queryFields((t) => ({
  providerKeys: t.field({
    type: [ProviderKeyRef],
    description: "The org's provider keys, one per provider at most, by provider (ADMINs and OWNERs; NOT_FOUND to non-members).",
    args: { orgId: t.arg.id({ required: true, description: 'The org.' }) },
    resolve: (_root, args) =>
      db.providerKey.findMany({
        where: { orgId: idOf(args.orgId, 'Org', 'orgId') },
        select: { id: true, orgId: true, provider: true, last4: true, createdAt: true, updatedAt: true },
        orderBy: { provider: 'asc' },
      }),
  }),
}));

builder.mutationFields((t) => ({
  addProviderKey: t.field({
    type: ProviderKeyRef,
    description: "Stores the org's key for a provider (ADMIN or OWNER), replacing the one it had; the org's AI requests then use it (BYOK).",
    args: { input: t.arg({ type: AddProviderKeyInput, required: true, description: 'The provider and key.' }) },
    resolve: (_root, { input }, ctx) => addProviderKey(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  removeProviderKey: t.field({
    type: RemoveProviderKeyPayload,
    description: "Deletes a provider key (ADMIN or OWNER): the org's AI requests fall back to the server's key, if any.",
    args: { input: t.arg({ type: RemoveProviderKeyInput, required: true, description: 'The key.' }) },
    resolve: async (_root, { input }) => {
      const key = await removeProviderKey(idOf(input.providerKeyId, 'ProviderKey', 'providerKeyId'));
      return { deletedId: encodeGlobalID('ProviderKey', key.id) };
    },
  }),
}));
