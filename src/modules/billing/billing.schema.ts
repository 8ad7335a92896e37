import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { PlanEnum } from '../orgs/orgs.schema.ts';
import { setOrgPlan } from './billing.service.ts';

const SetOrgPlanInput = builder.inputType('SetOrgPlanInput', {
  description: 'The org and the plan to put it on.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org whose plan to set (its OWNERs only).' }),
    plan: t.field({ type: PlanEnum, required: true, description: 'The new plan; its daily message quota applies at once.' }),
  }),
});

builder.mutationFields((t) => ({
  setOrgPlan: t.prismaField({
    type: 'Org',
    description:
      "Sets the org's plan (OWNERs, when the server's billing mode is `manual`); quotas follow at once. In `webhook` mode " +
      'the billing provider sets plans and this is FORBIDDEN (reason BILLING_MANAGED); a non-OWNER is FORBIDDEN.',
    args: { input: t.arg({ type: SetOrgPlanInput, required: true, description: 'The org and its new plan.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await setOrgPlan(ctx, idOf(input.orgId, 'Org', 'orgId'), input.plan);
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
}));
