export type PresenceStatus = 'ONLINE' | 'AWAY' | 'OFFLINE';

/** Presence changes, announced to every org the user belongs to. */
export type PresenceTopics = {
  'presence:changed': [orgId: string, payload: { userId: string; status: PresenceStatus; lastSeenAt: string | null }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends PresenceTopics {}
}
