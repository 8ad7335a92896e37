/**
 * What moderation announces beyond the room's own events: bans and reports are for the room's moderators and the
 * org's admins, not for every member following `roomEvents`, so they travel on a topic of their own, keyed by the
 * org (webhooks hear them; no subscription serves them).
 */
export type ModerationEvent =
  | {
      kind: 'MemberBanned';
      roomId: string;
      userId: string;
      banId: string;
      reason: string | null;
      expiresAt: string | null;
      /** Who banned them (null: the server). */
      byUserId: string | null;
      /** The ban took their membership away (they were in the room). */
      removed: boolean;
    }
  | { kind: 'MemberUnbanned'; roomId: string; userId: string; banId: string; byUserId: string | null }
  | {
      kind: 'MessageReported';
      reportId: string;
      roomId: string;
      messageId: string;
      authorId: string;
      reporterId: string;
      reason: string;
      createdAt: string;
    }
  | {
      kind: 'ReportResolved';
      reportId: string;
      /** Every report the action resolved (the one named and the other open reports of the same message). */
      reportIds: string[];
      roomId: string;
      messageId: string | null;
      action: ReportActionName;
      status: 'DISMISSED' | 'MESSAGE_DELETED' | 'USER_BANNED';
      resolvedById: string | null;
      note: string | null;
      resolvedAt: string;
    };

export type ReportActionName = 'DISMISS' | 'DELETE_MESSAGE' | 'BAN_AUTHOR';

export type ModerationTopics = {
  'moderation:event': [orgId: string, payload: ModerationEvent];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends ModerationTopics {}
}
