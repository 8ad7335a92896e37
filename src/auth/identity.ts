// Who a request is, as plain values: no database, no services (context.ts, ratelimit.ts and the live
// layer read it without depending on how credentials are checked, which is auth/viewer.ts).

/** Who is making a request. An API key acts for its org, within its scopes. */
export type Viewer =
  | { kind: 'anonymous' }
  /**
   * `via`: an org's ACT_AS API key acting as this member (X-Acting-User). Such a viewer reaches room
   * operations only (auth/acting.ts), and only inside the key's org.
   */
  | { kind: 'user'; userId: string; via?: { apiKeyId: string; orgId: string } }
  /** `projectId` set: the key reaches that project's data only (org-level operations refuse it). */
  | { kind: 'apiKey'; apiKeyId: string; orgId: string; scopes: string[]; createdById: string; projectId: string | null }
  /** A prepaid session's token holder: may use that one session, nothing else (no org, no account). */
  | { kind: 'session'; sessionId: string };

export const ANONYMOUS: Viewer = { kind: 'anonymous' };

/**
 * Whose credentials a viewer holds, as the subjects that access changes name (src/live/access.ts):
 * `user:<id>`, `key:<id>`, `session:<id>`. An ACT_AS key acting as a member holds the key's: the member
 * logging out everywhere does not revoke it (their access changing still concerns it: accessSubjects).
 */
export function credentialSubjects(viewer: Viewer): string[] {
  switch (viewer.kind) {
    case 'user':
      return viewer.via ? [`key:${viewer.via.apiKeyId}`] : [`user:${viewer.userId}`];
    case 'apiKey':
      return [`key:${viewer.apiKeyId}`];
    case 'session':
      return [`session:${viewer.sessionId}`];
    default:
      return [];
  }
}

/** Whose access a viewer's access depends on: its credentials', and the member an acting key acts as. */
export function accessSubjects(viewer: Viewer): string[] {
  const subjects = credentialSubjects(viewer);
  return viewer.kind === 'user' && viewer.via ? [...subjects, `user:${viewer.userId}`] : subjects;
}
