import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { forgetViewerRole, requireUserId } from '../../auth/rules.ts';
import type { Context } from '../../context.ts';
import { db, dbKind, serializable, type Tx } from '../../db/client.ts';
import { badInput, conflict, forbidden, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import { removeStoredFiles, STORED_FILE_COLUMNS } from '../attachments/attachments.service.ts';
import { recordAudit } from '../audit/audit.service.ts';
import { appendInbox } from '../inbox/inbox.service.ts';
import { announceThreadsDeleted } from '../threads/threads.service.ts';
import { deliverDetached } from '../webhooks/webhooks.detached.ts';
import { orgName, orgSlug } from './orgs.service.ts';
import type { OrgUpdated } from './orgs.topics.ts';

/** Longest a retention setting may be: ten years. */
export const MAX_RETENTION_DAYS = 3650;

const updateInput = z.object({
  name: orgName.nullish(),
  slug: orgSlug.nullish(),
  retentionDays: z.number().int().min(1, 'must be at least 1 day').max(MAX_RETENTION_DAYS, `must be at most ${MAX_RETENTION_DAYS} days`).nullish(),
});
type Field = OrgUpdated['changed'][number];

/**
 * Changes an org's name and retention (ADMIN and OWNER) and its slug (OWNER only: the slug is the org's name in
 * URLs and what deleteOrg asks to be typed back). Absent or null name and slug stay; an absent retentionDays stays,
 * null returns to the server's default. Only what differs is written, audited and announced.
 */
export async function updateOrg(ctx: Context, orgId: string, input: unknown) {
  const data = parseInput(updateInput, input);
  const wanted: Partial<Record<Field, string | number | null>> = {};
  if (data.name != null) wanted.name = data.name;
  if (data.slug != null) wanted.slug = data.slug;
  if (data.retentionDays !== undefined) wanted.retentionDays = data.retentionDays;
  let result;
  try {
    result = await db.$transaction(async (tx) => {
      const before = await tx.org.findUnique({ where: { id: orgId } });
      if (!before) throw notFound('Org');
      const changed = (Object.keys(wanted) as Field[]).filter((f) => wanted[f] !== before[f]);
      if (!changed.length) return { org: before, changed };
      if (changed.includes('slug') && (await ownRole(tx, ctx, orgId)) !== 'OWNER') throw forbidden('Only owners can change the slug');
      const patch = Object.fromEntries(changed.map((f) => [f, wanted[f]]));
      const org = await tx.org.update({ where: { id: orgId }, data: patch });
      const pick = (o: typeof org) => Object.fromEntries(changed.map((f) => [f, o[f]]));
      await recordAudit(tx, { orgId, actor: ctx.viewer, action: 'org.update', targetType: 'Org', targetId: orgId, data: { before: pick(before), after: pick(org) } });
      return { org, changed };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`The slug "${data.slug}" is taken`, { field: 'slug' });
    throw err;
  }
  const { org, changed } = result;
  if (changed.length) ctx.app.pubsub.publish('org:updated', orgId, { name: org.name, slug: org.slug, retentionDays: org.retentionDays, changed });
  return org;
}

async function ownRole(tx: Tx, ctx: Context, orgId: string) {
  if (ctx.viewer.kind !== 'user') return null;
  const m = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId: ctx.viewer.userId } }, select: { role: true } });
  return m?.role ?? null;
}

/**
 * Hands the org over: in one transaction the target member becomes OWNER and the caller, who must be an OWNER,
 * becomes ADMIN. The caller's step down is a conditional update, so of two transfers at once by the same owner one
 * wins and the other finds them no longer OWNER (FORBIDDEN). Co-owners made with updateMemberRole stay owners.
 */
export async function transferOrgOwnership(ctx: Context, orgId: string, targetUserId: string) {
  const userId = requireUserId(ctx);
  if (targetUserId === userId) throw badInput('You cannot transfer the org to yourself', 'userId');
  await serializable(async (tx) => {
    const target = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId: targetUserId } } });
    if (!target) throw notFound('Member');
    const stepped = await tx.membership.updateMany({ where: { orgId, userId, role: 'OWNER' }, data: { role: 'ADMIN' } });
    if (!stepped.count) throw forbidden('Only an owner can transfer the org');
    await tx.membership.update({ where: { id: target.id }, data: { role: 'OWNER' } });
    await recordAudit(tx, {
      orgId,
      actor: ctx.viewer,
      action: 'org.ownership.transfer',
      targetType: 'User',
      targetId: targetUserId,
      data: { fromUserId: userId, toUserId: targetUserId, targetRoleBefore: target.role },
    });
  });
  const { pubsub } = ctx.app;
  pubsub.publish('org:membershipChanged', orgId, { userId: targetUserId, role: 'OWNER', change: 'ROLE_CHANGED' });
  pubsub.publish('org:membershipChanged', orgId, { userId, role: 'ADMIN', change: 'ROLE_CHANGED' });
  pubsub.publish('org:ownershipTransferred', orgId, { fromUserId: userId, toUserId: targetUserId });
  announceAccessChange(pubsub, { subjects: [`user:${userId}`, `user:${targetUserId}`] });
  forgetViewerRole(ctx, orgId);
  return db.org.findUniqueOrThrow({ where: { id: orgId } });
}

/** A deleted org can hold a lot: its one transaction may run longer than the usual 20 s. */
const DELETE_TX = { maxWait: 10_000, timeout: 300_000 } as const;

/**
 * Deletes the org and everything in it (OWNER only, confirmed by typing its slug). One transaction locks the org
 * row first (so two deletes at once: one wins, the other finds nothing, NOT_FOUND; and nothing can be added to the
 * org meanwhile), reads what the live layer and storage must be told, and deletes the org (every row of it
 * cascades; prepaid sessions and billing events, which name the org without a foreign key, are deleted here).
 * After it commits: API keys and session tokens of the org are revoked at once (cache, sockets, streams), room and
 * thread streams get RoomDeleted and ThreadDeleted, every member's other streams re-check (and end), each member's
 * inbox gets RoomRemoved per room, ORG_DELETED goes to the webhooks read in the transaction, the stored bytes of
 * its attachments are deleted, and the deletion is logged (its audit entries are gone with it).
 */
export async function deleteOrg(ctx: Context, orgId: string, confirmSlug: string) {
  const deletedById = requireUserId(ctx);
  const gone = await db.$transaction(async (tx) => {
    const locked =
      dbKind === 'postgresql'
        ? await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Org" WHERE "id" = ${orgId} FOR UPDATE`
        : await tx.org.findMany({ where: { id: orgId }, select: { id: true } });
    if (!locked.length) throw notFound('Org');
    const org = await tx.org.findUniqueOrThrow({ where: { id: orgId }, select: { name: true, slug: true } });
    if (confirmSlug.trim() !== org.slug) throw badInput('confirmSlug does not match the org\'s slug: nothing was deleted', 'confirmSlug');
    if ((await ownRole(tx, ctx, orgId)) !== 'OWNER') throw forbidden('Only owners can delete the org');
    const [members, rooms, threads, keys, sessions, webhooks, files] = await Promise.all([
      tx.membership.findMany({ where: { orgId }, select: { userId: true } }),
      tx.room.findMany({ where: { orgId }, select: { id: true, members: { select: { userId: true } } } }),
      tx.thread.findMany({ where: { orgId }, select: { id: true } }),
      tx.apiKey.findMany({ where: { orgId }, select: { id: true } }),
      tx.session.findMany({ where: { orgId }, select: { id: true } }),
      tx.webhook.findMany({ where: { orgId, enabled: true }, select: { id: true, orgId: true, url: true, secretSealed: true, events: true } }),
      tx.attachment.findMany({ where: { orgId }, select: STORED_FILE_COLUMNS }),
    ]);
    await tx.session.deleteMany({ where: { orgId } });
    await tx.billingEvent.deleteMany({ where: { orgId } });
    await tx.org.delete({ where: { id: orgId } });
    return { org, members, rooms, threads, keys, sessions, webhooks, files };
  }, DELETE_TX);

  const { pubsub } = ctx.app;
  const revoked = [...gone.keys.map((k) => `key:${k.id}`), ...gone.sessions.map((s) => `session:${s.id}`)];
  announceAccessChange(pubsub, { subjects: revoked, revoked: true });
  for (const room of gone.rooms) pubsub.publish('room:event', room.id, { kind: 'RoomDeleted', roomId: room.id, orgId });
  announceThreadsDeleted(ctx, gone.threads.map((t) => t.id));
  announceAccessChange(pubsub, { subjects: gone.members.map((m) => `user:${m.userId}`) });
  await appendInbox(
    ctx.app,
    gone.rooms.flatMap((r) => r.members.map((m) => ({ userId: m.userId, kind: 'RoomRemoved' as const, payload: { roomId: r.id } }))),
  );
  deliverDetached(ctx.app, gone.webhooks, 'ORG_DELETED', { name: gone.org.name, slug: gone.org.slug, deletedById: encodeGlobalID('User', deletedById) });
  ctx.log.info(
    { audit: 'org.delete', orgId, slug: gone.org.slug, deletedById, members: gone.members.length, rooms: gone.rooms.length, threads: gone.threads.length, attachments: gone.files.length },
    'org deleted',
  );
  await removeStoredFiles(ctx.app, gone.files);
  return { orgId };
}
