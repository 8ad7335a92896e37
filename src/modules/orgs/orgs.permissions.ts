import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, checkOrg, idOf, isAdminOfParentOrg, isUser, orgRule, passes, ruleOf } from '../../auth/rules.ts';
import { db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';

const canManageInvite = ruleOf('canManageInvite', async (ctx, args) => {
  const invite = await db.invite.findUnique({ where: { id: idOf(args.input.inviteId, 'Invite', 'inviteId') }, select: { orgId: true } });
  return invite ? checkOrg(ctx, invite.orgId, { role: 'ADMIN' }) : notFound('Invite');
});

const inputOrg = (a: any) => a.input.orgId;

export const orgsPermissions: DomainPermissions = {
  rules: {
    Query: { org: orgRule('canReadOrg', (a) => a.id, { scope: 'READ' }) },
    Mutation: {
      createOrg: isUser,
      inviteMember: orgRule('canInvite', inputOrg, { role: 'ADMIN' }),
      acceptInvite: isUser,
      revokeInvite: canManageInvite,
      updateMemberRole: orgRule('canManageMembers', inputOrg, { role: 'ADMIN' }),
      // Members may remove themselves; the service enforces the rest.
      removeMember: orgRule('isOrgMember', inputOrg),
      // The slug is OWNER-only: the service checks it.
      updateOrg: orgRule('canUpdateOrg', inputOrg, { role: 'ADMIN' }),
      deleteOrg: orgRule('canDeleteOrg', inputOrg, { role: 'OWNER' }),
      transferOrgOwnership: orgRule('canTransferOrg', inputOrg, { role: 'OWNER' }),
    },
    // Checked again per event, after authorizedSubscribe checked it at start.
    Subscription: { membershipChanged: orgRule('canWatchOrg', (a) => a.orgId, { scope: 'READ' }) },
    MembershipChange: { '*': allow },
    // Members are listed to the org's members and READ keys, not to whoever reaches an Org through a
    // thread or project (a project-scoped key, a user a project is shared with).
    Org: {
      '*': allow,
      invites: isAdminOfParentOrg,
      members: ruleOf('canListOrgMembers', (ctx, _a, org: { id: string }) => checkOrg(ctx, org.id, { scope: 'READ' }), 'strict'),
    },
    OrgMember: { '*': allow },
    Invite: { '*': allow },
    InviteMemberPayload: { '*': allow },
    RemoveMemberPayload: { '*': allow },
    DeleteOrgPayload: { '*': allow },
  },
  nodes: {
    Org: (ctx, org: { id: string }) => passes(checkOrg(ctx, org.id, { scope: 'READ' })),
    OrgMember: (ctx, m: { orgId: string }) => passes(checkOrg(ctx, m.orgId, { scope: 'READ' })),
    Invite: (ctx, i: { orgId: string }) => passes(checkOrg(ctx, i.orgId, { role: 'ADMIN' })),
  },
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: { Org: ['id', 'name', 'slug', 'plan', 'createdAt'] },
};
