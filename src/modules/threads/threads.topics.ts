/**
 * What the threads and projects domains announce about who may see a thread. Payloads carry no data:
 * listeners (threadEvents) re-check access in the database, which stays the one source of the rules.
 */
export type ThreadTopics = {
  /** A project's shares or org-wide access changed: its threads' readers may have changed. */
  'project:accessChanged': [projectId: string, payload: { userId: string | null }];
};

declare module '../../live/bus.ts' {
  /** Registers this domain's topics in the one typed map. */
  interface TopicRegistry extends ThreadTopics {}
}
