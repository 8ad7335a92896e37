import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, isUser, orgRule, passes, ruleOf } from '../../auth/rules.ts';
import { notFound } from '../../errors.ts';
import { lifecycleRules } from './lifecycle.permissions.ts';
import { pinsRules } from './pins.permissions.ts';
import { checkRoom, roomOfMessage } from './rooms.access.ts';

const roomRule = (name: string, pick: (args: any) => unknown, opts: Parameters<typeof checkRoom>[2] = {}) =>
  ruleOf(name, (ctx, args) => checkRoom(ctx, idOf(pick(args), 'Room', 'roomId'), opts));

/** Rules on a message's room; another room's message is NOT_FOUND, like the room. */
const messageRule = (name: string, opts: Parameters<typeof checkRoom>[2] = {}) =>
  ruleOf(name, async (ctx, args) => {
    const roomId = await roomOfMessage(ctx, idOf(args.input.messageId, 'RoomMessage', 'messageId'));
    return roomId ? checkRoom(ctx, roomId, opts) : notFound('Message');
  });
/** Editing and reacting are writing: refused where the viewer may not write now (writeRefusal: ARCHIVED, FROZEN, MUTED, BLOCKED). */
const canWriteMessage = messageRule('canWriteRoomMessage', { write: true });
/** Deleting a message, taking back a reaction: refused only in an archived room (read-only for everyone until unarchived). */
const canDeleteMessage = messageRule('canDeleteRoomMessage', { notArchived: true });

const inputRoom = (a: any) => a.input.roomId;

/**
 * Only members see a room or anything in it. API keys are not members, so they neither read nor write
 * rooms (bots that chat should act as a user).
 */
export const roomsPermissions: DomainPermissions = {
  rules: {
    Query: { room: roomRule('canReadRoom', (a) => a.id) },
    Mutation: {
      createRoom: orgRule('canCreateRoom', (a) => a.input.orgId),
      openDirectRoom: orgRule('canOpenDirectRoom', (a) => a.input.orgId),
      joinRoom: isUser,
      addRoomMembers: roomRule('canAddRoomMembers', inputRoom, { notArchived: true }),
      removeRoomMember: roomRule('canRemoveRoomMember', inputRoom),
      leaveRoom: roomRule('canLeaveRoom', inputRoom),
      updateRoom: roomRule('canUpdateRoom', inputRoom, { admin: true }),
      markRead: roomRule('canMarkRead', inputRoom),
      sendMessage: roomRule('canSendMessage', inputRoom, { write: true }),
      editMessage: canWriteMessage,
      deleteMessage: canDeleteMessage,
      addReaction: canWriteMessage,
      removeReaction: canDeleteMessage,
      ...pinsRules.Mutation,
      ...lifecycleRules.Mutation,
    },
    // The stream authorizes itself when it starts (shield cannot stop a subscription).
    Subscription: { roomEvents: allow },
    Room: { '*': allow },
    RoomMember: { '*': allow },
    RoomMessage: { '*': allow },
    RoomMessageEdit: { '*': allow },
    ReactionSummary: { '*': allow },
    LeaveRoomPayload: { '*': allow },
    RemoveRoomMemberPayload: { '*': allow },
    DeleteMessagePayload: { '*': allow },
    RoomMessageAdded: { '*': allow },
    RoomMessageEdited: { '*': allow },
    RoomMessageDeleted: { '*': allow },
    RoomMessageRepliesUpdated: { '*': allow },
    ReactionChanged: { '*': allow },
    ReadReceiptUpdated: { '*': allow },
    TypingChanged: { '*': allow },
    RoomMemberJoined: { '*': allow },
    RoomMemberLeft: { '*': allow },
    RoomMemberUpdated: { '*': allow },
    RoomUpdated: { '*': allow },
    RoomDeleted: { '*': allow },
    RoomMessagePinChanged: { '*': allow },
    RoomHistoryPruned: { '*': allow },
    DeleteRoomPayload: { '*': allow },
  },
  // An ACT_AS key acting as a member (X-Acting-User) reaches the rooms and what is in them, and of the
  // people in them their id and name. Not a room's org: the org's data is not the key's business.
  acting: {
    Query: ['room', 'node', 'nodes'],
    Mutation: [
      'createRoom', 'openDirectRoom', 'joinRoom', 'addRoomMembers', 'removeRoomMember', 'leaveRoom', 'updateRoom', 'markRead',
      'sendMessage', 'editMessage', 'deleteMessage', 'addReaction', 'removeReaction',
    ],
    Subscription: ['roomEvents'],
    Node: ['id'],
    Room: ['id', 'type', 'name', 'topic', 'lastSeq', 'lastActivityAt', 'createdAt', 'viewerRole', 'unreadCount', 'mentionCount', 'lastMessage', 'members', 'messages',
      'prunedThroughSeq'],
    RoomMember: '*',
    RoomMessage: '*',
    RoomMessageEdit: '*',
    ReactionSummary: '*',
    LeaveRoomPayload: '*',
    RemoveRoomMemberPayload: '*',
    DeleteMessagePayload: '*',
    RoomMessageAdded: '*',
    RoomMessageEdited: '*',
    RoomMessageDeleted: '*',
    RoomMessageRepliesUpdated: '*',
    ReactionChanged: '*',
    ReadReceiptUpdated: '*',
    TypingChanged: '*',
    RoomMemberJoined: '*',
    RoomMemberLeft: '*',
    // Retention (what a bot paging or resuming needs to know: where history starts).
    RoomHistoryPruned: '*',
    User: ['id', 'name'],
  },
  actingNodes: ['Room', 'RoomMember', 'RoomMessage'],
  nodes: {
    Room: (ctx, room: { id: string }) => passes(checkRoom(ctx, room.id)),
    RoomMember: (ctx, m: { roomId: string }) => passes(checkRoom(ctx, m.roomId)),
    RoomMessage: (ctx, m: { roomId: string }) => passes(checkRoom(ctx, m.roomId)),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: {
    Subscription: ['roomEvents'],
    RoomMessageAdded: '*',
    RoomMessageEdited: '*',
    RoomMessageDeleted: '*',
    RoomMessageRepliesUpdated: '*',
    ReactionChanged: '*',
    ReadReceiptUpdated: '*',
    TypingChanged: '*',
    RoomMemberJoined: '*',
    RoomMemberLeft: '*',
    RoomHistoryPruned: '*',
    RoomUpdated: '*',
    RoomDeleted: '*',
    RoomMessagePinChanged: '*',
    // Not '*': mentionsViewer and hiddenForViewer differ per viewer.
    RoomMessage: [
      'id', 'seq', 'room', 'author', 'content', 'metadata', 'clientMsgId', 'viaApiKeyId', 'createdAt', 'editedAt', 'deletedAt', 'deleted',
      'edits', 'reactions', 'parent', 'replies', 'replyCount', 'lastReplyAt', 'mentions', 'attachments', 'pinnedAt', 'pinnedBy',
    ],
    RoomMessageEdit: '*',
    RoomMember: '*',
    ReactionSummary: ['emoji', 'count'],
    Room: ['id', 'type', 'name', 'topic', 'org', 'members', 'messages', 'lastMessage', 'lastSeq', 'lastActivityAt', 'createdAt', 'prunedThroughSeq', 'archivedAt', 'frozen', 'pinnedMessages'],
  },
};
