import { z } from 'zod';
import { requireUserId, roleAtLeast, viewerRole, type OrgRoleName } from '../../auth/rules.ts';
import { randomToken, sha256 } from '../../auth/tokens.ts';
import type { Context } from '../../context.ts';
import { db, serializable, type Tx } from '../../db/client.ts';
import { conflict, forbidden, gone, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { announceAccessChange } from '../../live/access.ts';
import { appendInviteReceived, appendOrgRooms } from '../inbox/inbox.service.ts';

const role = z.enum(['OWNER', 'ADMIN', 'MEMBER']);
/** An org's name and slug, as createOrg and updateOrg take them. */
export const orgName = z.string().trim().min(1, 'is required').max(100);
export const orgSlug = z
  .string()
  .trim()
  .min(3, 'must be at least 3 characters')
  .max(40)
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'may hold lower-case letters, digits and single dashes');
const createOrgInput = z.object({ name: orgName, slug: orgSlug });
const inviteInput = z.object({ email: z.string().trim().toLowerCase().pipe(z.email('must be a valid email address')), role });


/** The viewer's role, which shield has already checked exists; re-read inside the transaction. */
async function roleIn(tx: Tx, orgId: string, userId: string): Promise<OrgRoleName | null> {
  const m = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId } } });
  return (m?.role as OrgRoleName | undefined) ?? null;
}

export async function createOrg(ctx: Context, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(createOrgInput, input);
  try {
    return await db.org.create({ data: { ...data, members: { create: { userId, role: 'OWNER' } } } });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`The slug "${data.slug}" is taken`, { field: 'slug' });
    throw err;
  }
}

/** Only OWNERs hand out OWNER; the token is returned once and stored hashed. */
export async function inviteMember(ctx: Context, orgId: string, input: unknown) {
  const userId = requireUserId(ctx);
  const data = parseInput(inviteInput, input);
  if (data.role === 'OWNER' && (await viewerRole(ctx, orgId)) !== 'OWNER') throw forbidden('Only owners can invite owners');
  const already = await db.membership.count({ where: { orgId, user: { email: data.email } } });
  if (already) throw conflict('That person is already a member', { field: 'email' });
  const token = randomToken('cfi_');
  const invite = await db.invite.create({
    data: {
      orgId,
      email: data.email,
      role: data.role,
      tokenHash: sha256(token),
      invitedById: userId,
      expiresAt: new Date(Date.now() + ctx.app.config.auth.inviteTtl * 1000),
    },
  });
  await appendInviteReceived(ctx.app, invite);
  return { invite, token };
}

/** Only the user whose email was invited may accept, once, before it expires. */
export async function acceptInvite(ctx: Context, token: string) {
  const userId = requireUserId(ctx);
  const invite = await db.invite.findUnique({ where: { tokenHash: sha256(token) } });
  if (!invite || invite.revokedAt) throw notFound('Invite');
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (user.email !== invite.email) throw forbidden('This invite was sent to another email address');
  if (invite.acceptedAt) throw gone('This invite has already been used');
  if (invite.expiresAt < new Date()) throw gone('This invite has expired');
  const membership = await serializable(async (tx) => {
    const claimed = await tx.invite.updateMany({ where: { id: invite.id, acceptedAt: null }, data: { acceptedAt: new Date() } });
    if (!claimed.count) throw gone('This invite has already been used');
    if (await roleIn(tx, invite.orgId, userId)) throw conflict('You are already a member of this org');
    return tx.membership.create({ data: { orgId: invite.orgId, userId, role: invite.role } });
  });
  ctx.app.pubsub.publish('org:membershipChanged', invite.orgId, { userId, role: membership.role, change: 'JOINED' });
  // Rooms of the org they were in before leaving it are theirs again.
  await appendOrgRooms(ctx.app, invite.orgId, userId, 'RoomAdded');
  return membership;
}

export async function revokeInvite(inviteId: string) {
  const invite = await db.invite.findUnique({ where: { id: inviteId } });
  if (!invite) throw notFound('Invite');
  if (invite.acceptedAt) throw conflict('This invite was already accepted');
  return db.invite.update({ where: { id: inviteId }, data: { revokedAt: invite.revokedAt ?? new Date() } });
}

/**
 * ADMINs manage MEMBERs and ADMINs; only OWNERs touch OWNERs. The org never loses its last OWNER:
 * the check runs inside a serializable transaction so two owners demoting each other cannot both win.
 */
export async function updateMemberRole(ctx: Context, orgId: string, targetUserId: string, newRole: OrgRoleName) {
  const userId = requireUserId(ctx);
  const membership = await serializable(async (tx) => {
    const target = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId: targetUserId } } });
    if (!target) throw notFound('Member');
    const mine = await roleIn(tx, orgId, userId);
    if ((target.role === 'OWNER' || newRole === 'OWNER') && mine !== 'OWNER') throw forbidden('Only owners can change owners');
    if (target.role === 'OWNER' && newRole !== 'OWNER') await assertAnotherOwner(tx, orgId, targetUserId);
    return tx.membership.update({ where: { id: target.id }, data: { role: newRole } });
  });
  ctx.app.pubsub.publish('org:membershipChanged', orgId, { userId: targetUserId, role: membership.role, change: 'ROLE_CHANGED' });
  announceAccessChange(ctx.app.pubsub, { subjects: [`user:${targetUserId}`] });
  return membership;
}

/** ADMINs remove MEMBERs and ADMINs, OWNERs anyone, and anyone may remove themselves (leave). */
export async function removeMember(ctx: Context, orgId: string, targetUserId: string) {
  const userId = requireUserId(ctx);
  const removed = await serializable(async (tx) => {
    const target = await tx.membership.findUnique({ where: { orgId_userId: { orgId, userId: targetUserId } } });
    if (!target) throw notFound('Member');
    const mine = await roleIn(tx, orgId, userId);
    if (!mine) throw notFound('Org');
    if (targetUserId !== userId) {
      if (!roleAtLeast(mine, 'ADMIN')) throw forbidden('Requires the ADMIN role in this org');
      if (target.role === 'OWNER' && mine !== 'OWNER') throw forbidden('Only owners can remove owners');
    }
    if (target.role === 'OWNER') await assertAnotherOwner(tx, orgId, targetUserId);
    await tx.membership.delete({ where: { id: target.id } });
    return target;
  });
  ctx.app.pubsub.publish('org:membershipChanged', orgId, { userId: targetUserId, role: null, change: 'LEFT' });
  announceAccessChange(ctx.app.pubsub, { subjects: [`user:${targetUserId}`] });
  await appendOrgRooms(ctx.app, orgId, targetUserId, 'RoomRemoved');
  return removed;
}

async function assertAnotherOwner(tx: Tx, orgId: string, exceptUserId: string) {
  const others = await tx.membership.count({ where: { orgId, role: 'OWNER', userId: { not: exceptUserId } } });
  if (!others) throw conflict('An org must keep at least one owner');
}

export const inviteStatus = (i: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }) =>
  i.acceptedAt ? 'ACCEPTED' : i.revokedAt ? 'REVOKED' : i.expiresAt < new Date() ? 'EXPIRED' : 'PENDING';
