import { idOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { PlanEnum } from '../orgs/orgs.schema.ts';
import { setOrgPlan } from './billing.service.ts';

const SetOrgPlanInput = builder.inputType('SetOrgPlanInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), plan: t.field({ type: PlanEnum, required: true }) }),
});

builder.mutationFields((t) => ({
  setOrgPlan: t.prismaField({
    type: 'Org',
    description: "Sets the org's plan (OWNERs, when the server's billing mode is `manual`); quotas follow at once.",
    args: { input: t.arg({ type: SetOrgPlanInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await setOrgPlan(ctx, idOf(input.orgId, 'Org', 'orgId'), input.plan);
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
}));
