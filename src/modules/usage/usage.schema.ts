import { db } from '../../db/client.ts';
import { badInput } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import { PlanEnum } from '../orgs/orgs.schema.ts';
import { dailyLimit, dayOf, usedToday, type PlanName } from './usage.service.ts';

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

builder.prismaNode('UsageRecord', {
  id: { field: 'id', description: "Global ID of the record (`node(id)` finds it for the org's ADMINs and OWNERs)." },
  description: "Chat usage of one user with one model on one UTC day, in an org: one row of the org's usage report.",
  fields: (t) => ({
    day: t.expose('day', { type: 'Date', description: 'The UTC calendar day counted.' }),
    model: t.exposeString('model', { description: 'The model used (a name from `models`, or one the server allowed at the time).' }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'Who sent the messages; null once that user no longer exists.',
      resolve: (query, r) => db.user.findUnique({ ...query, where: { id: r.userId } }),
    }),
    messageCount: t.exposeInt('messages', { description: "Messages sent that day, each counted against the org's daily quota." }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens sent to the model (prompts, history and context) that day.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the model generated that day.' }),
  }),
});

interface OrgUsage {
  orgId: string;
  from: string;
  to: string;
  plan: PlanName;
  dailyLimit: number | null;
  usedToday: number;
}

const inRange = (u: OrgUsage) => ({ orgId: u.orgId, day: { gte: u.from, lte: u.to } });

/** The period's totals, summed by the database (the records themselves are paged). */
const totals = (u: OrgUsage) =>
  db.usageRecord.aggregate({ where: inRange(u), _sum: { messages: true, promptTokens: true, completionTokens: true } }).then((a) => a._sum);

const OrgUsageRef = builder.objectRef<OrgUsage>('OrgUsage').implement({
  description: "An org's chat usage between two UTC days (both included): its plan, today's quota and the period's totals and records.",
  fields: (t) => ({
    from: t.field({ type: 'Date', description: 'First UTC day counted.', resolve: (u) => u.from }),
    to: t.field({ type: 'Date', description: 'Last UTC day counted.', resolve: (u) => u.to }),
    plan: t.field({ type: PlanEnum, description: "The org's plan now (it sets the daily quota).", resolve: (u) => u.plan }),
    dailyLimit: t.exposeInt('dailyLimit', { nullable: true, description: 'Messages a day the plan allows; null when unlimited.' }),
    usedToday: t.exposeInt('usedToday', { description: 'Messages counted today (UTC) against the daily quota.' }),
    messageCount: t.int({ description: 'Messages sent in the period.', resolve: async (u) => (await totals(u)).messages ?? 0 }),
    promptTokens: t.int({ description: 'Prompt tokens used in the period.', resolve: async (u) => (await totals(u)).promptTokens ?? 0 }),
    completionTokens: t.int({ description: 'Completion tokens generated in the period.', resolve: async (u) => (await totals(u)).completionTokens ?? 0 }),
    records: t.prismaConnection(
      {
        type: 'UsageRecord',
        cursor: 'id',
        description: 'One record per day, model and user in the period, by day, then model, then user.',
        totalCount: (u) => db.usageRecord.count({ where: inRange(u) }),
        resolve: (query, u) =>
          db.usageRecord.findMany({ ...query, where: inRange(u), orderBy: [{ day: 'asc' }, { model: 'asc' }, { userId: 'asc' }, { id: 'asc' }] }),
      },
      { name: 'UsageRecordConnection', description: 'A page of usage records.' },
      { name: 'UsageRecordEdge', description: 'A usage record and its cursor.' },
    ),
  }),
});

builder.prismaObjectField('Org', 'usage', (t) =>
  t.field({
    type: OrgUsageRef,
    nullable: true,
    description:
      "The org's chat usage between two UTC days, both included, at most 366 days (ADMINs and OWNERs, API keys with READ; " +
      'FORBIDDEN to other members). `from` after `to` or a longer period is BAD_USER_INPUT.',
    args: {
      from: t.arg({ type: 'Date', required: true, description: 'First UTC day to count.' }),
      to: t.arg({ type: 'Date', required: true, description: 'Last UTC day to count (not before `from`).' }),
    },
    resolve: async (org, { from, to }, ctx) => {
      if (from > to) throw badInput('from must not be after to', 'from');
      if ((Date.parse(to) - Date.parse(from)) / DAY_MS + 1 > MAX_DAYS) throw badInput(`At most ${MAX_DAYS} days at a time`, 'to');
      const plan = org.plan as PlanName;
      return { orgId: org.id, from, to, plan, dailyLimit: dailyLimit(ctx.app, plan), usedToday: await usedToday(org.id, dayOf()) };
    },
  }),
);
