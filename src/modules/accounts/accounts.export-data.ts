// What exportMyData's archive holds: the user's own data, one section per file. Other people appear by id only
// (a DM's other member, a room); their messages are not in it, nor anyone's secrets (no hashes, no keys).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { db } from '../../db/client.ts';

const gid = (type: string, id: string | null) => (id ? encodeGlobalID(type, id) : null);

export async function collectExport(userId: string): Promise<Record<string, unknown>> {
  const where = { userId };
  const [user, memberships, roomMembers, roomMessages, threads, notifications, reactions, push, uploads, apiKeys, blocks] = await Promise.all([
    db.user.findUniqueOrThrow({ where: { id: userId } }),
    db.membership.findMany({ where, include: { org: { select: { id: true, name: true, slug: true } } }, orderBy: { createdAt: 'asc' } }),
    db.roomMember.findMany({ where, include: { room: { select: { id: true, orgId: true, type: true, name: true, topic: true } } }, orderBy: { createdAt: 'asc' } }),
    db.roomMessage.findMany({ where: { senderId: userId }, orderBy: [{ roomId: 'asc' }, { seq: 'asc' }] }),
    db.thread.findMany({
      where: { createdById: userId },
      include: { messages: { where: { OR: [{ authorId: userId }, { authorId: null }] }, orderBy: { createdAt: 'asc' } } },
      orderBy: { createdAt: 'asc' },
    }),
    db.notification.findMany({ where, orderBy: { createdAt: 'asc' } }),
    db.roomReaction.findMany({ where, orderBy: { createdAt: 'asc' } }),
    db.pushSubscription.findMany({ where, orderBy: { createdAt: 'asc' } }),
    db.attachment.findMany({ where: { uploaderId: userId }, orderBy: { createdAt: 'asc' } }),
    db.apiKey.findMany({ where: { createdById: userId }, orderBy: { createdAt: 'asc' } }),
    db.userBlock.findMany({ where: { blockerId: userId }, orderBy: { createdAt: 'asc' } }),
  ]);
  return {
    profile: {
      id: gid('User', user.id),
      email: user.email,
      name: user.name,
      emailVerifiedAt: user.emailVerifiedAt,
      avatarId: gid('Attachment', user.avatarId),
      createdAt: user.createdAt,
      lastSeenAt: user.lastSeenAt,
      exportedAt: new Date(),
    },
    memberships: memberships.map((m) => ({ org: { id: gid('Org', m.org.id), name: m.org.name, slug: m.org.slug }, role: m.role, joinedAt: m.createdAt })),
    roomMemberships: roomMembers.map((m) => ({
      room: { id: gid('Room', m.room.id), orgId: gid('Org', m.room.orgId), type: m.room.type, name: m.room.name, topic: m.room.topic },
      role: m.role,
      lastReadSeq: m.lastReadSeq,
      joinedAt: m.createdAt,
    })),
    roomMessages: roomMessages.map((m) => ({
      id: gid('RoomMessage', m.id),
      roomId: gid('Room', m.roomId),
      seq: m.seq,
      content: m.content,
      metadata: m.meta,
      parentId: gid('RoomMessage', m.parentId),
      createdAt: m.createdAt,
      editedAt: m.editedAt,
      deletedAt: m.deletedAt,
    })),
    threads: threads.map((t) => ({
      id: gid('Thread', t.id),
      orgId: gid('Org', t.orgId),
      projectId: gid('Project', t.projectId),
      title: t.title,
      status: t.status,
      metadata: t.metadata,
      createdAt: t.createdAt,
      messages: t.messages.map((m) => ({ id: gid('ThreadMessage', m.id), role: m.role, content: m.content, model: m.model, createdAt: m.createdAt })),
    })),
    notifications: notifications.map((n) => ({ id: gid('Notification', n.id), orgId: gid('Org', n.orgId), topic: n.topic, payload: n.payload, createdAt: n.createdAt, ackedAt: n.ackedAt })),
    reactions: reactions.map((r) => ({ messageId: gid('RoomMessage', r.messageId), emoji: r.emoji, createdAt: r.createdAt })),
    pushSubscriptions: push.map((p) => ({ id: gid('PushSubscription', p.id), endpoint: p.endpoint, userAgent: p.userAgent, createdAt: p.createdAt })),
    uploads: uploads.map((a) => ({
      id: gid('Attachment', a.id),
      orgId: gid('Org', a.orgId),
      filename: a.filename,
      contentType: a.contentType,
      byteSize: a.byteSize,
      status: a.status,
      roomMessageId: gid('RoomMessage', a.roomMessageId),
      createdAt: a.createdAt,
    })),
    apiKeys: apiKeys.map((k) => ({ id: gid('ApiKey', k.id), orgId: gid('Org', k.orgId), name: k.name, prefix: k.prefix, scopes: k.scopes, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, revokedAt: k.revokedAt })),
    blockedUsers: blocks.map((b) => ({ userId: gid('User', b.blockedId), blockedAt: b.createdAt })),
  };
}
