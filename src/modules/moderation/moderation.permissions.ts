import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, isAdminOfParentOrg, passes, ruleOf } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { checkRoom, roomOfMessage } from '../rooms/rooms.access.ts';
import type { RoomRoleName } from '../rooms/rooms.topics.ts';

const inRoom = (name: string, minRole: RoomRoleName) => ruleOf(name, (ctx, args) => checkRoom(ctx, idOf(args.input.roomId, 'Room', 'roomId'), { minRole }));

/** Bans and mutes of a room: its MODERATORs and above (FORBIDDEN below; NOT_FOUND to non-members). */
const moderatesParentRoom = ruleOf('moderatesParentRoom', (ctx, _args, room: { id: string }) => checkRoom(ctx, room.id, { minRole: 'MODERATOR' }), 'strict');

const canReportMessage = ruleOf('canReportMessage', async (ctx, args) => {
  const roomId = await roomOfMessage(ctx, idOf(args.input.messageId, 'RoomMessage', 'messageId'));
  return roomId ? checkRoom(ctx, roomId) : notFound('Message');
});

/** A report's org, once per operation. */
const orgOfReport = (ctx: Context, reportId: string) =>
  ctx
    .loader<string, { orgId: string; reporterId: string } | null>('reportOrg', async (ids) => {
      const rows = await db.report.findMany({ where: { id: { in: [...ids] } }, select: { id: true, orgId: true, reporterId: true } });
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    })
    .load(reportId);

/** Resolving: the org's OWNERs and ADMINs (FORBIDDEN to other members, NOT_FOUND to everyone else). */
const canResolveReport = ruleOf('canResolveReport', async (ctx, args) => {
  const report = await orgOfReport(ctx, idOf(args.input.reportId, 'Report', 'reportId'));
  return report ? checkOrg(ctx, report.orgId, { role: 'ADMIN' }) : notFound('Report');
});

/**
 * Roles, bans, mutes and freezing: rooms' moderators act, by rank (the services compare ranks with the member acted
 * on). Reports: any member reports what they can read; the org's admins see and resolve them. API keys and acting
 * keys do not moderate (nothing here is in an `acting` list).
 */
export const moderationPermissions: DomainPermissions = {
  rules: {
    Mutation: {
      setRoomMemberRole: inRoom('canSetRoomMemberRole', 'ADMIN'),
      banRoomMember: inRoom('canBanRoomMember', 'ADMIN'),
      unbanRoomMember: inRoom('canUnbanRoomMember', 'ADMIN'),
      muteRoomMember: inRoom('canMuteRoomMember', 'MODERATOR'),
      unmuteRoomMember: inRoom('canUnmuteRoomMember', 'MODERATOR'),
      setRoomFrozen: inRoom('canSetRoomFrozen', 'ADMIN'),
      reportMessage: canReportMessage,
      resolveReport: canResolveReport,
    },
    Room: { bans: moderatesParentRoom, mutes: moderatesParentRoom },
    Org: { reports: isAdminOfParentOrg },
    RoomBan: { '*': allow },
    RoomMute: { '*': allow },
    Report: { '*': allow },
    UnbanRoomMemberPayload: { '*': allow },
    UnmuteRoomMemberPayload: { '*': allow },
  },
  nodes: {
    RoomBan: (ctx, b: { roomId: string }) => passes(checkRoom(ctx, b.roomId, { minRole: 'MODERATOR' })),
    RoomMute: (ctx, m: { roomId: string }) => passes(checkRoom(ctx, m.roomId, { minRole: 'MODERATOR' })),
    Report: async (ctx, r: { orgId: string; reporterId: string }) =>
      (ctx.viewer.kind === 'user' && !ctx.viewer.via && ctx.viewer.userId === r.reporterId) || passes(checkOrg(ctx, r.orgId, { role: 'ADMIN' })),
  },
};
