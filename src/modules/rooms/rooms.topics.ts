import type { RoomMessage } from '../../generated/sqlite/client.ts';

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
  parentId?: string | null;
  replyCount?: number;
  lastReplyAt?: string | null;
  /** The users the message mentions (sendMessage's mentionIds); absent or empty when none. */
  mentionIds?: string[];
  /** The attachments of a new message (sendMessage's attachmentIds), in order; absent when none. */
  attachmentIds?: string[];
}

/** Everything that happens in a room, as `Subscription.roomEvents` delivers it. */
export type RoomEvent =
  | { kind: 'MessageAdded'; message: MessageJson }
  | { kind: 'MessageEdited'; message: MessageJson }
  | { kind: 'MessageDeleted'; message: MessageJson }
  | { kind: 'ReactionChanged'; message: MessageJson; userId: string; emoji: string; added: boolean; count: number }
  | { kind: 'ReadReceipt'; userId: string; seq: number }
  | { kind: 'Typing'; userId: string; typing: boolean }
  | { kind: 'MemberJoined'; userId: string; role: 'ADMIN' | 'MEMBER' }
  | { kind: 'MemberLeft'; userId: string };

export type RoomTopics = {
  'room:event': [roomId: string, payload: RoomEvent];
};

export function messageToJson(m: RoomMessage): MessageJson {
  return {
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
}

/** Back to the row shape the RoomMessage type resolves from. */
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
  };
}

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends RoomTopics {}
}
