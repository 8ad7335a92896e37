import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import type { UsageRecord } from '../../generated/sqlite/client.ts';
import { builder } from '../../schema/builder.ts';
import { PlanEnum } from '../orgs/orgs.schema.ts';
import { dailyLimit, dayOf, usedToday, type PlanName } from './usage.service.ts';

const MAX_DAYS = 366;

const UsageRecordRef = builder.objectRef<UsageRecord>('UsageRecord').implement({
  description: 'Usage of one user with one model on one UTC day.',
  fields: (t) => ({
    day: t.exposeString('day', { description: 'UTC day, YYYY-MM-DD.' }),
    model: t.exposeString('model'),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, r) => db.user.findUnique({ ...query, where: { id: r.userId } }),
    }),
    messages: t.exposeInt('messages'),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
  }),
});

interface OrgUsage {
  from: string;
  to: string;
  plan: PlanName;
  dailyLimit: number | null;
  usedToday: number;
  records: UsageRecord[];
}

const OrgUsageRef = builder.objectRef<OrgUsage>('OrgUsage').implement({
  fields: (t) => ({
    from: t.exposeString('from', { description: 'First UTC day counted (YYYY-MM-DD).' }),
    to: t.exposeString('to', { description: 'Last UTC day counted (YYYY-MM-DD).' }),
    plan: t.field({ type: PlanEnum, resolve: (u) => u.plan }),
    dailyLimit: t.exposeInt('dailyLimit', { nullable: true, description: "Messages a day the plan allows; null when unlimited." }),
    usedToday: t.exposeInt('usedToday'),
    messages: t.int({ resolve: (u) => u.records.reduce((n, r) => n + r.messages, 0) }),
    promptTokens: t.int({ resolve: (u) => u.records.reduce((n, r) => n + r.promptTokens, 0) }),
    completionTokens: t.int({ resolve: (u) => u.records.reduce((n, r) => n + r.completionTokens, 0) }),
    records: t.field({ type: [UsageRecordRef], resolve: (u) => u.records }),
  }),
});

builder.prismaObjectField('Org', 'usage', (t) =>
  t.field({
    type: OrgUsageRef,
    description: 'Chat usage per day, user and model between two dates (whole UTC days, both included).',
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: async (org, { from, to }, ctx) => {
      const [first, last] = [dayOf(from), dayOf(to)];
      if (first > last) throw badInput('from must not be after to', 'from');
      if ((to.getTime() - from.getTime()) / 86_400_000 > MAX_DAYS) throw badInput(`At most ${MAX_DAYS} days at a time`, 'to');
      const records = await db.usageRecord.findMany({
        where: { orgId: org.id, day: { gte: first, lte: last } },
        orderBy: [{ day: 'asc' }, { model: 'asc' }, { userId: 'asc' }],
      });
      return { from: first, to: last, plan: org.plan as PlanName, dailyLimit: dailyLimit(ctx.app, org.plan as PlanName), usedToday: await usedToday(org.id), records };
    },
  }),
);
