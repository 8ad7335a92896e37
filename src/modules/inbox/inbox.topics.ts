/** The kinds of entry in a user's durable inbox log (InboxEntry.kind). Room messages are not logged per user. */
export type InboxEntryKind = 'RoomAdded' | 'RoomRemoved' | 'DirectRoomCreated' | 'NotificationCreated' | 'InviteReceived';

/** What an invite shows its invitee (never the token, never the org's data beyond its name). */
export interface InvitePayload {
  inviteId: string;
  orgId: string;
  orgName: string;
  role: 'OWNER' | 'ADMIN' | 'MEMBER';
  invitedByName: string;
  expiresAt: string;
}

/** The payload of each kind, as stored in InboxEntry.payload (JSON). */
export interface InboxPayloads {
  RoomAdded: { roomId: string };
  RoomRemoved: { roomId: string };
  DirectRoomCreated: { roomId: string; byUserId: string };
  NotificationCreated: { notificationId: string };
  InviteReceived: InvitePayload;
}

/** One entry to append: `appendInbox(app, [{ userId, kind, payload }])`. */
export type NewInboxEntry = { [K in InboxEntryKind]: { userId: string; kind: K; payload: InboxPayloads[K] } }[InboxEntryKind];

/** An InboxEntry as it crosses the pub/sub (JSON-safe), and as the feed replays it from the database. */
export type InboxEntryJson = { [K in InboxEntryKind]: { seq: number; kind: K; payload: InboxPayloads[K]; createdAt: string } }[InboxEntryKind];

export type InboxTopics = {
  /** A user's new inbox log entry, keyed by the user's id; published after the entry is stored. */
  'inbox:event': [userId: string, payload: InboxEntryJson];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends InboxTopics {}
}
