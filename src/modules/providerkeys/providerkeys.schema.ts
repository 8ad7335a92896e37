import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { addProviderKey, removeProviderKey } from './providerkeys.service.ts';

const ProviderKeyRef = builder.prismaNode('ProviderKey', {
  id: { field: 'id' },
  description: 'An LLM provider key of an org (BYOK). The key itself is never readable: only its last 4 characters.',
  select: { id: true, orgId: true, provider: true, last4: true, createdAt: true, updatedAt: true },
  fields: (t) => ({
    provider: t.exposeString('provider'),
    last4: t.exposeString('last4'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const AddProviderKeyInput = builder.inputType('AddProviderKeyInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    provider: t.string({ required: true, description: 'openai (any OpenAI-compatible API).' }),
    key: t.string({ required: true, description: 'Stored encrypted; replaces the org’s key for this provider.' }),
  }),
});
const RemoveProviderKeyInput = builder.inputType('RemoveProviderKeyInput', { fields: (t) => ({ id: t.id({ required: true }) }) });

builder.queryFields((t) => ({
  providerKeys: t.field({
    type: [ProviderKeyRef],
    args: { orgId: t.arg.id({ required: true }) },
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
    args: { input: t.arg({ type: AddProviderKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => addProviderKey(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  // The row is read with the client's selection before it is deleted: read afterwards, it is gone.
  removeProviderKey: t.prismaField({
    type: 'ProviderKey',
    args: { input: t.arg({ type: RemoveProviderKeyInput, required: true }) },
    resolve: (query, _root, { input }) => removeProviderKey(idOf(input.id, 'ProviderKey'), query),
  }),
}));
