import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, isUser } from '../../auth/rules.ts';

export const pushPermissions: DomainPermissions = {
  rules: {
    // Public: a browser needs the key before anyone signs in on it.
    Query: { pushConfig: allow },
    // People only: anonymous is UNAUTHENTICATED, API keys FORBIDDEN; an ACT_AS key acting as a member is refused by
    // the acting gate (these are not in any domain's `acting` list). Each acts on the caller's own subscriptions.
    Mutation: { registerPushSubscription: isUser, unregisterPushSubscription: isUser },
    PushConfig: { '*': allow },
    // Reached through the caller's own mutations, `me.pushSubscriptions` (Viewer: isSelf) and node(id) (guarded below).
    PushSubscription: { '*': allow },
    UnregisterPushSubscriptionPayload: { '*': allow },
  },
  nodes: {
    PushSubscription: (ctx, s: { userId: string }) => ctx.viewer.kind === 'user' && !ctx.viewer.via && ctx.viewer.userId === s.userId,
  },
};
