import type { RoomMessage } from '../../generated/sqlite/client.ts';

export type RoomRoleName = 'OWNER' | 'ADMIN' | 'MODERATOR' | 'MEMBER';

/** A RoomMessage as it crosses the pub/sub (JSON-safe: dates as ISO strings). */
export interface MessageJson {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  content: string;
  meta: unknown;
  clientMsgId: string | null;
  viaApiKeyId?: string | null;
  editedAt: string | null;
  deletedAt: string | null;
  createdAt: string;
  /** The message it replies to (raw id); null for a top-level message. */
  parentId?: string | null;
  /** Live replies to it, and when the newest was sent (as stored when the event was published). */
  replyCount?: number;
  lastReplyAt?: string | null;
  /** When it was pinned (pinMessage) and by whom; absent or null when it is not pinned. */
  pinnedAt?: string | null;
  pinnedById?: string | null;
  /**
   * The users the message mentions (raw ids, sendMessage's mentionIds). Set on the MessageAdded that a send
   * publishes (empty when none); absent elsewhere (replays, edits, deletes): the database has them.
   */
  mentionIds?: string[];
  /** The attachments of a new message (sendMessage's attachmentIds), in order; absent when none. */
  attachmentIds?: string[];
}

/** Everything that happens in a room, as `Subscription.roomEvents` delivers it. */
export type RoomEvent =
  | { kind: 'MessageAdded'; message: MessageJson }
  | { kind: 'MessageEdited'; message: MessageJson }
  | { kind: 'MessageDeleted'; message: MessageJson }
  /** A message's replies changed (one was sent, or deleted): `message` is the parent with its new counts. */
  | { kind: 'RepliesUpdated'; message: MessageJson }
  | { kind: 'ReactionChanged'; message: MessageJson; userId: string; emoji: string; added: boolean; count: number }
  | { kind: 'ReadReceipt'; userId: string; seq: number }
  | { kind: 'Typing'; userId: string; typing: boolean }
  | { kind: 'MemberJoined'; userId: string; role: RoomRoleName }
  /** `reason` (issue 22): why they are out; absent means LEFT. Their own MemberLeft ends their feed. */
  | { kind: 'MemberLeft'; userId: string; reason?: MemberLeftReason }
  // ── issue 22: moderation and lifecycle ──
  /** A member's role changed, or they were muted or unmuted (`muteExpiresAt`: null when not muted, `muted` true with a null `muteExpiresAt` when until unmuted). */
  | { kind: 'MemberUpdated'; userId: string; role: RoomRoleName; muted: boolean; muteExpiresAt: string | null }
  /** The room's own fields changed (name, topic, frozen, archived): subscribers re-read the room. `change` says which (absent: UPDATED). */
  | { kind: 'RoomUpdated'; roomId: string; change?: RoomChange }
  /** The room is gone: every feed of it ends after this event. `orgId`: the room's row is gone when a webhook asks for it. */
  | { kind: 'RoomDeleted'; roomId: string; orgId: string }
  /** A message was pinned or unpinned (`message.pinnedAt` says which). */
  | { kind: 'MessagePinChanged'; message: MessageJson }
  /**
   * The retention worker deleted the room's messages up to and including `throughSeq` (those seqs are gone for
   * good). Live after a pass, and first of a resume whose `afterSeq` is below it.
   */
  | { kind: 'HistoryPruned'; throughSeq: number };

/** What a RoomUpdated was: name or topic (UPDATED), freezing (setRoomFrozen), archiving. Webhooks' ROOM_UPDATED carries it. */
export type RoomChange = 'UPDATED' | 'FROZEN' | 'UNFROZEN' | 'ARCHIVED' | 'UNARCHIVED';

export type MemberLeftReason = 'LEFT' | 'REMOVED' | 'BANNED' | 'ORG_REMOVED' | 'ACCOUNT_DELETED' | 'ROOM_DELETED';

export type RoomTopics = {
  'room:event': [roomId: string, payload: RoomEvent];
};

/** `mentionIds`, when given, are the message's mentions (a send knows them without reading them back). */
export function messageToJson(m: RoomMessage, mentionIds?: string[]): MessageJson {
  const json: MessageJson = {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    senderId: m.senderId,
    content: m.content,
    meta: m.meta ?? null,
    clientMsgId: m.clientMsgId,
    viaApiKeyId: m.viaApiKeyId,
    editedAt: m.editedAt?.toISOString() ?? null,
    deletedAt: m.deletedAt?.toISOString() ?? null,
    createdAt: m.createdAt.toISOString(),
    parentId: m.parentId,
    replyCount: m.replyCount,
    lastReplyAt: m.lastReplyAt?.toISOString() ?? null,
  };
  if (m.pinnedAt) {
    json.pinnedAt = m.pinnedAt.toISOString();
    json.pinnedById = m.pinnedById;
  }
  if (mentionIds) json.mentionIds = mentionIds;
  return json;
}

/** Back to the row shape the RoomMessage type resolves from (`mentionIds`, when the event has them, come along: mentions.service.ts reads them). */
export function messageFromJson(m: MessageJson): RoomMessage {
  return {
    ...m,
    meta: (m.meta ?? null) as RoomMessage['meta'],
    viaApiKeyId: m.viaApiKeyId ?? null,
    editedAt: m.editedAt ? new Date(m.editedAt) : null,
    deletedAt: m.deletedAt ? new Date(m.deletedAt) : null,
    createdAt: new Date(m.createdAt),
    parentId: m.parentId ?? null,
    replyCount: m.replyCount ?? 0,
    lastReplyAt: m.lastReplyAt ? new Date(m.lastReplyAt) : null,
    pinnedAt: m.pinnedAt ? new Date(m.pinnedAt) : null,
    pinnedById: m.pinnedById ?? null,
  };
}

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends RoomTopics {}
}
