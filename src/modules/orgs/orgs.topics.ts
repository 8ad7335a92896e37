/** What became of a membership: a join (accepted invite), a new role, or a removal or leave. */
export type MembershipChange = 'JOINED' | 'ROLE_CHANGED' | 'LEFT';

/** What the orgs domain announces. Other domains listen (rooms stop streaming to removed members, webhooks). */
export type OrgTopics = {
  'org:membershipChanged': [
    orgId: string,
    payload: { userId: string; role: 'OWNER' | 'ADMIN' | 'MEMBER' | null; change?: MembershipChange },
  ];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends OrgTopics {}
}
