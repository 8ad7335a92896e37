// deleteAccount: personal data erased, the row kept (as the author of messages kept under "Deleted user").
import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { requireUserId } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db, serializable, type Tx } from '../../db/client.ts';
import { badInput, conflict, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import { removeAttachments } from '../attachments/attachments.service.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { storageFor, type StoredFile } from '../attachments/attachments.storage.ts';
import { deleteMessageRows } from '../rooms/messages.service.ts';
import { messageToJson } from '../rooms/rooms.topics.ts';
import { announceRevocation, throttledPasswordCheck } from '../users/users.service.ts';

const deleteInput = z.object({ password: z.string().max(256) });

/** The name a deleted account shows under, wherever it still appears (the author of kept messages). */
export const DELETED_NAME = 'Deleted user';
export const deletedEmail = (userId: string) => `deleted-${userId}@deleted.invalid`;

/**
 * Deletes the viewer's account, given their password (BAD_USER_INPUT when wrong, counted by the login
 * throttle). An OWNER of an org with other members must transfer or delete it first (CONFLICT, reason
 * OWNS_ORGS, `orgIds`); orgs where they are the only member go with everything in them. Memberships, room
 * memberships (MemberLeft, reason ACCOUNT_DELETED), notifications, inbox, push subscriptions, blocks, tokens
 * and uploads (avatar included) are deleted, and each org they leave gets an audit entry (org.member.remove, reason
 * ACCOUNT_DELETED); their room messages are kept under "Deleted user" or deleted
 * (privacy.on_delete). Every login and socket ends. All in one transaction: refused, it changes nothing.
 */
export async function deleteAccount(ctx: Context, input: unknown): Promise<{ deletedId: string }> {
  const userId = requireUserId(ctx);
  const data = parseInput(deleteInput, input);
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (!(await throttledPasswordCheck(ctx, user.email, data.password, user.passwordHash))) throw badInput('password: wrong password', 'password');
  const done = await serializable((tx) => eraseAccount(tx, ctx, userId, ctx.app.config.privacy.onDelete));
  announceRevocation(ctx.app, userId);
  for (const roomId of done.roomIds) ctx.app.pubsub.publish('room:event', roomId, { kind: 'MemberLeft', userId, reason: 'ACCOUNT_DELETED' });
  for (const orgId of done.leftOrgIds) ctx.app.pubsub.publish('org:membershipChanged', orgId, { userId, role: null, change: 'LEFT' });
  for (const { id: roomId, orgId } of done.goneRooms) ctx.app.pubsub.publish('room:event', roomId, { kind: 'RoomDeleted', roomId, orgId });
  announceAccessChange(ctx.app.pubsub, { subjects: done.goneKeyIds.map((id) => `key:${id}`), revoked: true });
  for (const { message, parent } of done.erased) {
    ctx.app.pubsub.publish('room:event', message.roomId, { kind: 'MessageDeleted', message: messageToJson(message) });
    if (parent) ctx.app.pubsub.publish('room:event', message.roomId, { kind: 'RepliesUpdated', message: messageToJson(parent) });
  }
  // Bytes after the commit: their uploads, and the files of the orgs that went with them (rows gone by cascade).
  await removeAttachments(ctx.app, { uploaderId: userId });
  const storage = storageFor(ctx.app.config);
  for (const file of done.orgFiles) await storage.remove(file).catch((err) => ctx.log.warn({ err, attachmentId: file.id }, 'deleting attachment bytes failed'));
  ctx.log.info({ userId, deletedOrgIds: done.soleOrgIds, mode: ctx.app.config.privacy.onDelete }, 'account deleted');
  return { deletedId: encodeGlobalID('User', userId) };
}

async function eraseAccount(tx: Tx, ctx: Context, userId: string, mode: 'anonymize' | 'delete') {
  const memberships = await tx.membership.findMany({ where: { userId }, select: { orgId: true, role: true } });
  const soleOrgIds: string[] = [];
  const owned: string[] = [];
  for (const m of memberships) {
    const others = await tx.membership.count({ where: { orgId: m.orgId, userId: { not: userId } } });
    if (!others) soleOrgIds.push(m.orgId);
    else if (m.role === 'OWNER') owned.push(m.orgId);
  }
  if (owned.length) {
    throw conflict('You own orgs that have other members: transfer their ownership or delete them first', {
      reason: 'OWNS_ORGS',
      orgIds: owned.map((id) => encodeGlobalID('Org', id)),
    });
  }
  const kept = { room: { orgId: { notIn: soleOrgIds } } };
  const roomIds = (await tx.roomMember.findMany({ where: { userId, ...kept }, select: { roomId: true } })).map((r) => r.roomId);
  const erased = [];
  if (mode === 'delete') {
    const mine = await tx.roomMessage.findMany({ where: { senderId: userId, deletedAt: null, ...kept }, select: { id: true }, orderBy: { seq: 'desc' } });
    for (const m of mine) {
      const done = await deleteMessageRows(tx, m.id);
      if (done) erased.push(done);
    }
    await tx.roomReaction.deleteMany({ where: { userId } });
  }
  // What outlives the cascade in memory: the deleted orgs' rooms (their feeds end) and keys (their sockets close).
  const goneRooms = await tx.room.findMany({ where: { orgId: { in: soleOrgIds } }, select: { id: true, orgId: true } });
  const goneKeyIds = (await tx.apiKey.findMany({ where: { orgId: { in: soleOrgIds } }, select: { id: true } })).map((k) => k.id);
  const orgFiles: StoredFile[] = await tx.attachment.findMany({
    where: { orgId: { in: soleOrgIds } },
    select: { id: true, storageKey: true, filename: true, contentType: true, byteSize: true },
  });
  // Without deleteOrg's service (issue 22, H3), the org's rows go by the database's cascade.
  await tx.org.deleteMany({ where: { id: { in: soleOrgIds } } });
  const where = { userId };
  await tx.roomMember.deleteMany({ where });
  await tx.membership.deleteMany({ where });
  await tx.notification.deleteMany({ where });
  await tx.topicSubscription.deleteMany({ where });
  await tx.inboxEntry.deleteMany({ where });
  await tx.pushSubscription.deleteMany({ where });
  await tx.projectShare.deleteMany({ where });
  await tx.userToken.deleteMany({ where });
  await tx.refreshToken.deleteMany({ where });
  await tx.userBlock.deleteMany({ where: { OR: [{ blockerId: userId }, { blockedId: userId }] } });
  await tx.user.update({
    where: { id: userId },
    data: {
      email: deletedEmail(userId),
      name: DELETED_NAME,
      // Not a hash of anything: verifyPassword refuses it, so nobody can sign in as this row.
      passwordHash: 'deleted',
      avatarId: null,
      emailVerifiedAt: null,
      lastSeenAt: null,
      deletedAt: new Date(),
      tokenVersion: { increment: 1 },
    },
  });
  const leftOrgIds = memberships.map((m) => m.orgId).filter((id) => !soleOrgIds.includes(id));
  // The orgs they leave keep a trace in their audit log: who went, and why.
  for (const orgId of leftOrgIds) {
    const role = memberships.find((m) => m.orgId === orgId)?.role;
    await recordAudit(tx, { orgId, actor: ctx.viewer, action: 'org.member.remove', targetType: 'User', targetId: userId, data: { reason: 'ACCOUNT_DELETED', role } });
  }
  return { roomIds, erased, soleOrgIds, leftOrgIds, orgFiles, goneRooms, goneKeyIds };
}
