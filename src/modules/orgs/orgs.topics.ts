/** What the orgs domain announces. Other domains listen (rooms stop streaming to removed members). */
export type OrgTopics = {
  'org:membershipChanged': [orgId: string, payload: { userId: string; role: 'OWNER' | 'ADMIN' | 'MEMBER' | null }];
};
