import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, checkOrg, idOf, viewerRole } from '../../auth/rules.ts';
import { topicFeed } from '../../live/feed.ts';
import type { Invite } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { builder } from '../../schema/builder.ts';
import * as orgs from './orgs.service.ts';

export const OrgRole = builder.enumType('OrgRole', {
  description: "A member's role in an org; each role may do everything the roles below it may.",
  values: {
    OWNER: { description: 'Everything, including managing other owners; an org always keeps at least one.' },
    ADMIN: { description: 'Manages members, invites, API keys, provider keys, webhooks and billing.' },
    MEMBER: { description: "Uses the org's rooms, threads and projects." },
  } as const,
});
export const PlanEnum = builder.enumType('Plan', {
  description: "The org's plan: it sets the org's daily message quota (config `[plans]`, 0 for unlimited); billing changes it.",
  values: {
    FREE: { description: 'The plan of a new org; the quota of `[plans] free`.' },
    PRO: { description: 'The quota of `[plans] pro`.' },
    TEAM: { description: 'The quota of `[plans] team`.' },
    ENTERPRISE: { description: 'The quota of `[plans] enterprise`.' },
  } as const,
});
const InviteStatus = builder.enumType('InviteStatus', {
  description: 'Where an invite stands.',
  values: {
    PENDING: { description: 'Not used yet, not expired, not revoked: its token can still be accepted.' },
    ACCEPTED: { description: 'Accepted: the invitee is a member.' },
    EXPIRED: { description: 'Not accepted before `expiresAt`.' },
    REVOKED: { description: 'Revoked by an admin before it was accepted.' },
  } as const,
});

export const OrgRef = builder.prismaNode('Org', {
  id: { field: 'id' },
  description: 'An organization: its members share rooms, threads and projects, and its admins manage keys, webhooks and billing.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The display name.' }),
    slug: t.exposeString('slug', { description: 'The unique short name, in URLs (lowercase letters, digits and `-`).' }),
    plan: t.expose('plan', { type: PlanEnum, description: 'The plan the org is on.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the org was created.' }),
    viewerRole: t.field({
      type: OrgRole,
      nullable: true,
      description: "The signed-in user's role here; null for API keys.",
      resolve: (org, _args, ctx) => (ctx.viewer.kind === 'user' ? viewerRole(ctx, org.id) : null),
    }),
    members: t.relatedConnection('members', {
      cursor: 'id',
      totalCount: true,
      description: "The org's members, earliest first (members and API keys with READ; NOT_FOUND to anyone else).",
      query: { orderBy: { createdAt: 'asc' } },
    }, {
      name: 'OrgMemberConnection',
      description: 'A page of org members.',
      // Prisma's own totalCount field (the same extension), with a description.
      fields: (t) => ({
        totalCount: t.int({
          description: 'How many members the org has.',
          extensions: { pothosPrismaTotalCount: true },
          resolve: (c) => (c as unknown as { totalCount: number }).totalCount,
        }),
      }),
    }, { name: 'OrgMemberEdge', description: 'An org member and its cursor.' }),
    invites: t.relatedConnection('invites', {
      cursor: 'id',
      description: 'Invites sent, newest first (ADMIN and OWNER only).',
      query: { orderBy: { createdAt: 'desc' } },
    }, { name: 'InviteConnection', description: 'A page of invites.' }, { name: 'InviteEdge', description: 'An invite and its cursor.' }),
  }),
});

builder.prismaNode('Membership', {
  name: 'OrgMember',
  id: { field: 'id' },
  description: "A user's membership of an org, with their role.",
  fields: (t) => ({
    role: t.expose('role', { type: OrgRole, description: 'What the member may do in the org.' }),
    joinedAt: t.expose('createdAt', { type: 'DateTime', description: 'When they joined (created the org or accepted an invite).' }),
    user: t.relation('user', { description: 'The member.' }),
    org: t.relation('org', { description: 'The org.' }),
  }),
});

const InviteRef = builder.prismaNode('Invite', {
  id: { field: 'id' },
  description: 'An invitation to join an org, for one email address (visible to the org\'s ADMINs and OWNERs).',
  fields: (t) => ({
    email: t.exposeString('email', { description: 'The address invited: only the user registered with it may accept.' }),
    role: t.expose('role', { type: OrgRole, description: 'The role the invitee gets on accepting.' }),
    status: t.field({ type: InviteStatus, description: 'Where the invite stands.', resolve: (i) => orgs.inviteStatus(i) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'After this it can no longer be accepted.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was sent.' }),
    org: t.relation('org', { description: 'The org to join.' }),
    createdBy: t.relation('invitedBy', { description: 'The admin who sent it.' }),
  }),
});

const InviteMemberPayload = builder.objectRef<{ invite: Invite; token: string }>('InviteMemberPayload').implement({
  description: 'A new invite and its token.',
  fields: (t) => ({
    invite: t.field({ type: InviteRef, description: 'The invite.', resolve: (p) => p.invite }),
    token: t.exposeString('token', { description: 'Shown once: send it to the invitee, who passes it to acceptInvite.' }),
  }),
});

const CreateOrgInput = builder.inputType('CreateOrgInput', {
  description: 'A new org.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The display name.' }),
    slug: t.string({ required: true, description: 'The unique short name: lowercase letters, digits and `-` (CONFLICT when taken).' }),
  }),
});
const InviteMemberInput = builder.inputType('InviteMemberInput', {
  description: 'Whom to invite, and with which role.',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org to invite to (you must be ADMIN or OWNER there).' }),
    email: t.string({ required: true, description: 'The invitee\'s email address; they accept once registered with it.' }),
    role: t.field({ type: OrgRole, required: true, defaultValue: 'MEMBER', description: 'Their role once they accept; OWNER only from an OWNER.' }),
  }),
});
const AcceptInviteInput = builder.inputType('AcceptInviteInput', {
  description: 'The invite to accept.',
  fields: (t) => ({ token: t.string({ required: true, description: 'The token `inviteMember` returned to the inviter.' }) }),
});
const RevokeInviteInput = builder.inputType('RevokeInviteInput', {
  description: 'The invite to revoke.',
  fields: (t) => ({ inviteId: t.id({ required: true, description: 'A pending invite of an org you administer.' }) }),
});
const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  description: "A member's new role.",
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org.' }),
    userId: t.id({ required: true, description: 'The member whose role changes.' }),
    role: t.field({ type: OrgRole, required: true, description: 'The new role.' }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  description: 'The member to remove (yourself, to leave).',
  fields: (t) => ({
    orgId: t.id({ required: true, description: 'The org.' }),
    userId: t.id({ required: true, description: 'The member to remove; your own ID leaves the org.' }),
  }),
});

type RemovedMember = { membershipId: string; orgId: string; left: boolean };
const RemoveMemberPayload = builder.objectRef<RemovedMember>('RemoveMemberPayload').implement({
  description: 'The membership removed by `removeMember`.',
  fields: (t) => ({
    deletedId: t.id({
      description: 'The ID of the OrgMember that is gone.',
      resolve: (r) => encodeGlobalID('OrgMember', r.membershipId),
    }),
    org: t.prismaField({
      type: 'Org',
      nullable: true,
      description: 'The org, without the member; null when you removed yourself (you no longer see it).',
      resolve: (query, r) => (r.left ? null : db.org.findUnique({ ...query, where: { id: r.orgId } })),
    }),
  }),
});

builder.queryFields((t) => ({
  org: t.prismaField({
    type: 'Org',
    nullable: true,
    description: 'The org with this ID. Null with a NOT_FOUND error when it does not exist or you may not see it (the two look the same).',
    args: { id: t.arg.id({ required: true, description: "The org's global ID." }) },
    resolve: async (query, _root, args) => {
      const org = await db.org.findUnique({ ...query, where: { id: idOf(args.id, 'Org') } });
      if (!org) throw notFound('Org');
      return org;
    },
  }),
}));

builder.mutationFields((t) => ({
  createOrg: t.prismaField({
    type: 'Org',
    description: 'Creates an org with you as its OWNER. CONFLICT when the slug is taken; BAD_USER_INPUT for a malformed one.',
    args: { input: t.arg({ type: CreateOrgInput, required: true, description: 'The org to create.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await orgs.createOrg(ctx, input);
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
  inviteMember: t.field({
    type: InviteMemberPayload,
    description: 'Invites an email address to the org (ADMIN or OWNER) and returns the token to send them.',
    args: { input: t.arg({ type: InviteMemberInput, required: true, description: 'Whom to invite.' }) },
    resolve: (_root, { input }, ctx) => orgs.inviteMember(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  acceptInvite: t.prismaField({
    type: 'Membership',
    description:
      'Joins the org of an invite sent to your email address. NOT_FOUND for an unknown or revoked token; FORBIDDEN for an invite to ' +
      'another address; GONE when it expired or was already used; CONFLICT when you are already a member.',
    args: { input: t.arg({ type: AcceptInviteInput, required: true, description: 'The invite token.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await orgs.acceptInvite(ctx, input.token);
      return db.membership.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
  revokeInvite: t.prismaField({
    type: 'Invite',
    description: 'Revokes a pending invite (its status becomes REVOKED); CONFLICT when it was already accepted.',
    args: { input: t.arg({ type: RevokeInviteInput, required: true, description: 'The invite.' }) },
    resolve: async (query, _root, { input }) => {
      const invite = await orgs.revokeInvite(idOf(input.inviteId, 'Invite', 'inviteId'));
      return db.invite.findUniqueOrThrow({ ...query, where: { id: invite.id } });
    },
  }),
  updateMemberRole: t.prismaField({
    type: 'Membership',
    description:
      "Changes a member's role (ADMIN or OWNER; only OWNERs touch OWNERs). CONFLICT when it would leave the org without an OWNER.",
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true, description: 'The member and role.' }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await orgs.updateMemberRole(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'), input.role);
      return db.membership.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
  removeMember: t.field({
    type: RemoveMemberPayload,
    description:
      'Removes a member from the org (ADMIN or OWNER; only OWNERs remove OWNERs), or yourself to leave it. ' +
      'CONFLICT when it would leave the org without an OWNER; NOT_FOUND for someone who is not a member.',
    args: { input: t.arg({ type: RemoveMemberInput, required: true, description: 'The org and member.' }) },
    resolve: async (_root, { input }, ctx) => {
      const userId = idOf(input.userId, 'User', 'userId');
      const removed = await orgs.removeMember(ctx, idOf(input.orgId, 'Org', 'orgId'), userId);
      return { membershipId: removed.id, orgId: removed.orgId, left: ctx.viewer.kind === 'user' && ctx.viewer.userId === userId };
    },
  }),
}));

type MembershipEvent = { orgId: string; userId: string; role: 'OWNER' | 'ADMIN' | 'MEMBER' | null };
const MembershipChange = builder.objectRef<MembershipEvent>('MembershipChange').implement({
  description: 'Someone joined or left the org, or their role changed (role is null when they left).',
  fields: (t) => ({
    orgId: t.id({ description: 'The org.', resolve: (e) => encodeGlobalID('Org', e.orgId) }),
    userId: t.id({ description: 'The user who joined, left or changed role.', resolve: (e) => encodeGlobalID('User', e.userId) }),
    role: t.field({ type: OrgRole, nullable: true, description: 'Their role now; null when they left.', resolve: (e) => e.role }),
  }),
});

builder.subscriptionFields((t) => ({
  membershipChanged: t.field({
    type: MembershipChange,
    description: "The org's membership changes as they happen (members and API keys with READ).",
    args: { orgId: t.arg.id({ required: true, description: 'The org to watch.' }) },
    subscribe: authorizedSubscribe<{ orgId: unknown }, MembershipEvent>(
      (ctx, args) => checkOrg(ctx, idOf(args.orgId, 'Org', 'orgId'), { scope: 'READ' }),
      (args, ctx) => {
        const orgId = idOf(args.orgId, 'Org', 'orgId');
        return topicFeed(ctx.app.pubsub, 'org:membershipChanged', orgId, (e) => ({ ...e, orgId }));
      },
    ),
    resolve: (event) => event,
  }),
}));
