/** What became of a membership: a join (accepted invite), a new role, or a removal or leave. */
export type MembershipChange = 'JOINED' | 'ROLE_CHANGED' | 'LEFT';

/** An org's own fields after updateOrg, and which of them it changed (`changed`: input field names). */
export interface OrgUpdated {
  name: string;
  slug: string;
  retentionDays: number | null;
  changed: ('name' | 'slug' | 'retentionDays')[];
}

/** What the orgs domain announces. Other domains listen (rooms stop streaming to removed members, webhooks). */
export type OrgTopics = {
  'org:membershipChanged': [
    orgId: string,
    payload: { userId: string; role: 'OWNER' | 'ADMIN' | 'MEMBER' | null; change?: MembershipChange },
  ];
  /** updateOrg committed (webhooks: ORG_UPDATED). */
  'org:updated': [orgId: string, payload: OrgUpdated];
  /** transferOrgOwnership committed: `toUserId` is OWNER, `fromUserId` ADMIN (webhooks: ORG_OWNERSHIP_TRANSFERRED). */
  'org:ownershipTransferred': [orgId: string, payload: { fromUserId: string; toUserId: string }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends OrgTopics {}
}
