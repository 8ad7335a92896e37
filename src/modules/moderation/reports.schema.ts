import { idOf, passes } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import { UserRef } from '../users/users.schema.ts';
import { checkRoom } from '../rooms/rooms.access.ts';
import { userOrNull } from './moderation.schema.ts';
import * as reports from './reports.service.ts';

const ReportStatus = builder.enumType('ReportStatus', {
  description: 'Where a report stands.',
  values: {
    OPEN: { description: 'Waiting in the org admins\' queue.' },
    DISMISSED: { description: 'Resolved with nothing done (DISMISS).' },
    MESSAGE_DELETED: { description: 'Resolved by deleting the message (DELETE_MESSAGE).' },
    USER_BANNED: { description: 'Resolved by banning the author from the room and deleting the message (BAN_AUTHOR).' },
  } as const,
});
const ReportAction = builder.enumType('ReportAction', {
  description: 'What `resolveReport` does about a reported message.',
  values: {
    DISMISS: { description: 'Nothing: the report is closed as DISMISSED.' },
    DELETE_MESSAGE: { description: 'Deletes the message, as `deleteMessage` does (MESSAGE_DELETED).' },
    BAN_AUTHOR: { description: 'Bans the author from the room, as `banRoomMember` does, and deletes the message (USER_BANNED).' },
  } as const,
});

/** A room (or a message in it) is shown through a report only to members of the room: admins read the copied content. */
const ifMember = async (ctx: Context, roomId: string) => passes(checkRoom(ctx, roomId));

builder.prismaNode('Report', {
  description:
    "A message reported to the org's admins (`reportMessage`). Visible to the org's OWNERs and ADMINs and to the person who reported it. The author and content are copied when it is made, so the report still says what was reported after the message is deleted.",
  id: { field: 'id', description: 'The global ID of the report.' },
  fields: (t) => ({
    room: t.prismaField({
      type: 'Room',
      nullable: true,
      description: 'The room of the message; null when you are not a member of it (org admins read `content` instead).',
      resolve: async (query, r, _a, ctx) => ((await ifMember(ctx, r.roomId)) ? db.room.findUnique({ ...query, where: { id: r.roomId } }) : null),
    }),
    message: t.prismaField({
      type: 'RoomMessage',
      nullable: true,
      description: 'The reported message; null once it is deleted, or when you are not a member of its room.',
      resolve: async (query, r, _a, ctx) => {
        if (!r.messageId || !(await ifMember(ctx, r.roomId))) return null;
        const m = await db.roomMessage.findUnique({ ...query, where: { id: r.messageId } });
        return m && !m.deletedAt ? m : null;
      },
    }),
    author: t.field({ type: UserRef, nullable: true, description: "The message's author; null if their account is gone.", resolve: (r, _a, ctx) => userOrNull(ctx, r.authorId) }),
    content: t.exposeString('content', { description: 'What the message said when it was reported.' }),
    reason: t.exposeString('reason', { description: 'Why it was reported, in the reporter\'s words.' }),
    status: t.expose('status', { type: ReportStatus, description: 'OPEN until resolved, then how it was resolved.' }),
    filedBy: t.field({ type: UserRef, nullable: true, description: 'Who reported it (`reporter` would start with the type name, which the schema lint refuses); null if their account is gone.', resolve: (r, _a, ctx) => userOrNull(ctx, r.reporterId) }),
    resolvedBy: t.field({ type: UserRef, nullable: true, description: 'Who resolved it; null while OPEN (or if their account is gone).', resolve: (r, _a, ctx) => userOrNull(ctx, r.resolvedById) }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true, description: 'When it was resolved; null while OPEN.' }),
    note: t.exposeString('note', { nullable: true, description: "The resolver's note; null when none." }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was reported.' }),
  }),
});

builder.prismaObjectField('Org', 'reports', (t) =>
  t.prismaConnection(
    {
      type: 'Report',
      cursor: 'id',
      description: "The org's reported messages, newest first, optionally with one status (OPEN: the queue). OWNERs and ADMINs only (FORBIDDEN otherwise).",
      args: { status: t.arg({ type: ReportStatus, description: 'Only the reports with this status.' }) },
      resolve: (query, org, args) =>
        db.report.findMany({ ...query, where: { orgId: org.id, ...(args.status ? { status: args.status } : {}) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    },
    { name: 'ReportConnection', description: 'A page of reports.' },
    { name: 'ReportEdge', description: 'A report and its cursor.' },
  ),
);

const ReportMessageInput = builder.inputType('ReportMessageInput', {
  description: "A message to report to the org's admins.",
  fields: (t) => ({
    messageId: t.id({ required: true, description: 'A message in a room you are a member of (NOT_FOUND otherwise), not yours (BAD_USER_INPUT), not deleted (GONE).' }),
    reason: t.string({ required: true, description: 'Why: 1 to 1000 characters after trimming (BAD_USER_INPUT otherwise).' }),
  }),
});
const ResolveReportInput = builder.inputType('ResolveReportInput', {
  description: 'How to resolve a report.',
  fields: (t) => ({
    reportId: t.id({ required: true, description: 'An OPEN report of an org where you are OWNER or ADMIN (CONFLICT when already resolved).' }),
    action: t.field({ type: ReportAction, required: true, description: 'What to do about the message.' }),
    note: t.string({ description: 'Your note, kept with the resolution: at most 1000 characters.' }),
    banExpiresAt: t.field({ type: 'DateTime', description: 'With BAN_AUTHOR only: when the ban ends (in the future); left out: until lifted.' }),
  }),
});

builder.mutationFields((t) => ({
  reportMessage: t.prismaField({
    type: 'Report',
    description:
      "Reports a message to the org's OWNERs and ADMINs, who are notified (topic `report`). Reporting the same message again answers your first report. At most 20 reports a minute (RATE_LIMITED).",
    args: { input: t.arg({ type: ReportMessageInput, required: true, description: 'The message and why.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const r = await reports.reportMessage(ctx, idOf(input.messageId, 'RoomMessage', 'messageId'), { reason: input.reason });
      return db.report.findUniqueOrThrow({ ...query, where: { id: r.id } });
    },
  }),
  resolveReport: t.prismaField({
    type: 'Report',
    description:
      "Resolves an OPEN report, and every other OPEN report of the same message, the same way (OWNERs and ADMINs of the org; they need not be in the room). Of two resolutions at once, one wins; the other gets CONFLICT.",
    args: { input: t.arg({ type: ResolveReportInput, required: true, description: 'The report and what to do.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const r = await reports.resolveReport(ctx, idOf(input.reportId, 'Report', 'reportId'), { action: input.action, note: input.note, banExpiresAt: input.banExpiresAt });
      return db.report.findUniqueOrThrow({ ...query, where: { id: r.id } });
    },
  }),
}));
