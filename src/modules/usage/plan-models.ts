import type { Config } from '../../config.ts';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { appError } from '../../errors.ts';
import { allowedModels } from '../chat/providers/index.ts';

/** An org's plan, as stored (Org.plan). */
export type PlanName = 'FREE' | 'PRO' | 'TEAM' | 'ENTERPRISE';

const settingsOf = (config: Config, plan: PlanName) => config.plans[plan.toLowerCase() as Lowercase<PlanName>];

/** Does `[plans.<plan>] models` (exact names, or prefixes ending in `*`) let the plan use this model? Unset: every model. */
export function planAllowsModel(config: Config, plan: PlanName, model: string): boolean {
  const patterns = settingsOf(config, plan).models;
  return !patterns || patterns.some((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : model === p));
}

/** The models an org on this plan may use: the server's (`models`, the default first) that the plan allows. */
export const modelsOfPlan = (config: Config, plan: PlanName) => allowedModels(config).filter((m) => planAllowsModel(config, plan, m));

export const modelNotInPlan = (plan: PlanName, model: string) =>
  appError('FORBIDDEN', `The ${plan} plan does not include the model "${model}"; upgrade the org's plan or choose another model`, {
    reason: 'MODEL_NOT_IN_PLAN',
    plan,
    model,
  });

/** Refuses a model outside the plan (FORBIDDEN, reason MODEL_NOT_IN_PLAN). */
export function assertPlanModel(config: Config, plan: PlanName, model: string) {
  if (!planAllowsModel(config, plan, model)) throw modelNotInPlan(plan, model);
}

/**
 * The same for an org whose plan has not been read yet: reads it only when some plan restricts models (by
 * default none does, and this reads nothing).
 */
export async function assertOrgModel(app: AppServices, orgId: string, model: string) {
  if (!plansRestrictModels(app.config)) return;
  assertPlanModel(app.config, await planOf(orgId), model);
}

/** The models an org may use (for /v1/models): reads its plan only when some plan restricts models. */
export async function modelsOfOrg(app: AppServices, orgId: string) {
  return plansRestrictModels(app.config) ? modelsOfPlan(app.config, await planOf(orgId)) : allowedModels(app.config);
}

const plansRestrictModels = ({ plans }: Config) => [plans.free, plans.pro, plans.team, plans.enterprise].some((p) => p.models);
const planOf = async (orgId: string) => (await db.org.findUniqueOrThrow({ where: { id: orgId }, select: { plan: true } })).plan as PlanName;
