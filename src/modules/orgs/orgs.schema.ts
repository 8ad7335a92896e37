import { encodeGlobalID } from '@pothos/plugin-relay';
import { authorizedSubscribe, checkOrg, idOf, viewerRole } from '../../auth/rules.ts';
import { topicFeed } from '../../live/feed.ts';
import type { Invite } from '../../generated/sqlite/client.ts';
import { db } from '../../db/client.ts';
import { builder } from '../../schema/builder.ts';
import * as orgs from './orgs.service.ts';

export const OrgRole = builder.enumType('OrgRole', { values: ['OWNER', 'ADMIN', 'MEMBER'] as const });
export const PlanEnum = builder.enumType('Plan', { values: ['FREE', 'PRO', 'TEAM', 'ENTERPRISE'] as const });
const InviteStatus = builder.enumType('InviteStatus', { values: ['PENDING', 'ACCEPTED', 'EXPIRED', 'REVOKED'] as const });

export const OrgRef = builder.prismaNode('Org', {
  id: { field: 'id' },
  fields: (t) => ({
    name: t.exposeString('name'),
    slug: t.exposeString('slug'),
    plan: t.expose('plan', { type: PlanEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    viewerRole: t.field({
      type: OrgRole,
      nullable: true,
      description: "The signed-in user's role here; null for API keys.",
      resolve: (org, _args, ctx) => (ctx.viewer.kind === 'user' ? viewerRole(ctx, org.id) : null),
    }),
    members: t.relatedConnection('members', { cursor: 'id', totalCount: true, query: { orderBy: { createdAt: 'asc' } } }),
    invites: t.relatedConnection('invites', {
      cursor: 'id',
      description: 'Invites sent, newest first (ADMIN and OWNER only).',
      query: { orderBy: { createdAt: 'desc' } },
    }),
  }),
});

builder.prismaNode('Membership', {
  name: 'OrgMember',
  id: { field: 'id' },
  fields: (t) => ({
    role: t.expose('role', { type: OrgRole }),
    joinedAt: t.expose('createdAt', { type: 'DateTime' }),
    user: t.relation('user'),
    org: t.relation('org'),
  }),
});

const InviteRef = builder.prismaNode('Invite', {
  id: { field: 'id' },
  fields: (t) => ({
    email: t.exposeString('email'),
    role: t.expose('role', { type: OrgRole }),
    status: t.field({ type: InviteStatus, resolve: (i) => orgs.inviteStatus(i) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    org: t.relation('org'),
    invitedBy: t.relation('invitedBy'),
  }),
});

const InviteMemberPayload = builder.objectRef<{ invite: Invite; token: string }>('InviteMemberPayload').implement({
  fields: (t) => ({
    invite: t.field({ type: InviteRef, resolve: (p) => p.invite }),
    token: t.exposeString('token', { description: 'Shown once: send it to the invitee, who passes it to acceptInvite.' }),
  }),
});

const CreateOrgInput = builder.inputType('CreateOrgInput', {
  fields: (t) => ({ name: t.string({ required: true }), slug: t.string({ required: true }) }),
});
const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    email: t.string({ required: true }),
    role: t.field({ type: OrgRole, required: true, defaultValue: 'MEMBER' }),
  }),
});
const AcceptInviteInput = builder.inputType('AcceptInviteInput', { fields: (t) => ({ token: t.string({ required: true }) }) });
const RevokeInviteInput = builder.inputType('RevokeInviteInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const UpdateMemberRoleInput = builder.inputType('UpdateMemberRoleInput', {
  fields: (t) => ({
    orgId: t.id({ required: true }),
    userId: t.id({ required: true }),
    role: t.field({ type: OrgRole, required: true }),
  }),
});
const RemoveMemberInput = builder.inputType('RemoveMemberInput', {
  fields: (t) => ({ orgId: t.id({ required: true }), userId: t.id({ required: true }) }),
});

builder.queryFields((t) => ({
  org: t.prismaField({
    type: 'Org',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args) => db.org.findUniqueOrThrow({ ...query, where: { id: idOf(args.id, 'Org') } }),
  }),
}));

builder.mutationFields((t) => ({
  createOrg: t.prismaField({
    type: 'Org',
    args: { input: t.arg({ type: CreateOrgInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const org = await orgs.createOrg(ctx, input);
      return db.org.findUniqueOrThrow({ ...query, where: { id: org.id } });
    },
  }),
  inviteMember: t.field({
    type: InviteMemberPayload,
    args: { input: t.arg({ type: InviteMemberInput, required: true }) },
    resolve: (_root, { input }, ctx) => orgs.inviteMember(ctx, idOf(input.orgId, 'Org', 'orgId'), input),
  }),
  acceptInvite: t.prismaField({
    type: 'Membership',
    args: { input: t.arg({ type: AcceptInviteInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await orgs.acceptInvite(ctx, input.token);
      return db.membership.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
  revokeInvite: t.prismaField({
    type: 'Invite',
    args: { input: t.arg({ type: RevokeInviteInput, required: true }) },
    resolve: async (query, _root, { input }) => {
      const invite = await orgs.revokeInvite(idOf(input.id, 'Invite'));
      return db.invite.findUniqueOrThrow({ ...query, where: { id: invite.id } });
    },
  }),
  updateMemberRole: t.prismaField({
    type: 'Membership',
    args: { input: t.arg({ type: UpdateMemberRoleInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const m = await orgs.updateMemberRole(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'), input.role);
      return db.membership.findUniqueOrThrow({ ...query, where: { id: m.id } });
    },
  }),
  removeMember: t.field({
    type: builder.simpleObject('RemoveMemberPayload', { fields: (f) => ({ removedUserId: f.id() }) }),
    args: { input: t.arg({ type: RemoveMemberInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      await orgs.removeMember(ctx, idOf(input.orgId, 'Org', 'orgId'), idOf(input.userId, 'User', 'userId'));
      return { removedUserId: String(input.userId) };
    },
  }),
}));

type MembershipEvent = { orgId: string; userId: string; role: 'OWNER' | 'ADMIN' | 'MEMBER' | null };
const MembershipChange = builder.objectRef<MembershipEvent>('MembershipChange').implement({
  description: 'Someone joined or left the org, or their role changed (role is null when they left).',
  fields: (t) => ({
    orgId: t.id({ resolve: (e) => encodeGlobalID('Org', e.orgId) }),
    userId: t.id({ resolve: (e) => encodeGlobalID('User', e.userId) }),
    role: t.field({ type: OrgRole, nullable: true, resolve: (e) => e.role }),
  }),
});

builder.subscriptionFields((t) => ({
  membershipChanged: t.field({
    type: MembershipChange,
    args: { orgId: t.arg.id({ required: true }) },
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
