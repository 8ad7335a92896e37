import type { AppServices } from '../../context.ts';
import { db, serializable } from '../../db/client.ts';
import { rateLimited } from '../../errors.ts';
import type { ChatTurnHooks } from '../chat/chat.turn.ts';
import { assertPlanModel, type PlanName } from './plan-models.ts';

export type { PlanName } from './plan-models.ts';

/** UTC day of a date, `YYYY-MM-DD`: the unit of quotas and usage rows. */
export const dayOf = (date = new Date()) => date.toISOString().slice(0, 10);

/** Messages per day the plan allows; null means unlimited (config 0). */
export function dailyLimit(app: AppServices, plan: PlanName): number | null {
  const limit = app.config.plans[plan.toLowerCase() as 'free' | 'pro' | 'team' | 'enterprise'].messagesPerDay;
  return limit > 0 ? limit : null;
}

export async function usedToday(orgId: string, day = dayOf()): Promise<number> {
  const sum = await db.usageRecord.aggregate({ where: { orgId, day }, _sum: { messages: true } });
  return sum._sum.messages ?? 0;
}

const secondsToMidnight = (now = new Date()) => {
  const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((next - now.getTime()) / 1000);
};

function quotaError(plan: string, limit: number) {
  return rateLimited(
    `Daily message quota reached: the ${plan} plan allows ${limit} messages a day. Upgrade the org's plan, or wait until the quota resets at 00:00 UTC.`,
    secondsToMidnight(),
  );
}

/**
 * Refuses early when the org has no message left today, before work a refused message must not
 * cause (a session rotation, a summary call). reserveMessage stays the exact, atomic check. With the
 * model the work will use, a model outside the org's plan is refused too (FORBIDDEN, MODEL_NOT_IN_PLAN),
 * from the same read of the plan.
 */
export async function assertQuotaLeft(app: AppServices, orgId: string, model?: string): Promise<void> {
  const org = await db.org.findUniqueOrThrow({ where: { id: orgId }, select: { plan: true } });
  if (model) assertPlanModel(app.config, org.plan as PlanName, model);
  const limit = dailyLimit(app, org.plan as PlanName);
  if (limit !== null && (await usedToday(orgId)) >= limit) throw quotaError(org.plan, limit);
}

/**
 * Counts one message against the org's daily quota, refusing it (RATE_LIMITED, with when the quota
 * resets) once the plan's limit is reached. The check and the count are one serializable
 * transaction, so concurrent requests cannot overshoot the limit.
 */
export async function reserveMessage(app: AppServices, orgId: string, userId: string, model: string): Promise<void> {
  const day = dayOf();
  await serializable(async (tx) => {
    const org = await tx.org.findUniqueOrThrow({ where: { id: orgId }, select: { plan: true } });
    const limit = dailyLimit(app, org.plan as PlanName);
    if (limit !== null) {
      const used = (await tx.usageRecord.aggregate({ where: { orgId, day }, _sum: { messages: true } }))._sum.messages ?? 0;
      if (used >= limit) throw quotaError(org.plan, limit);
    }
    await tx.usageRecord.upsert({
      where: { orgId_userId_model_day: { orgId, userId, model, day } },
      create: { orgId, userId, model, day, messages: 1 },
      update: { messages: { increment: 1 } },
    });
  });
}

export async function recordTokens(orgId: string, userId: string, model: string, usage: { promptTokens: number; completionTokens: number }) {
  const day = dayOf();
  await db.usageRecord.upsert({
    where: { orgId_userId_model_day: { orgId, userId, model, day } },
    create: { orgId, userId, model, day, messages: 0, ...usage },
    update: { promptTokens: { increment: usage.promptTokens }, completionTokens: { increment: usage.completionTokens } },
  });
}

/** Metering for a chat turn of an org: quota before, tokens after. */
export function usageHooks(app: AppServices, orgId: string, userId: string): ChatTurnHooks {
  return {
    beforeGenerate: (turn) => reserveMessage(app, orgId, userId, turn.model),
    afterGenerate: (turn) => recordTokens(orgId, userId, turn.model, turn.usage),
  };
}
