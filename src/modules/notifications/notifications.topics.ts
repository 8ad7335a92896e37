/** A Notification as it crosses the pub/sub (JSON-safe). */
export interface NotificationJson {
  id: string;
  orgId: string;
  userId: string;
  topic: string;
  payload: unknown;
  createdAt: string;
  ackedAt: string | null;
}

export type NotificationTopics = {
  'notification:created': [userId: string, payload: NotificationJson];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends NotificationTopics {}
}
