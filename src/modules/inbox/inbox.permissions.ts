import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow } from '../../auth/rules.ts';

/**
 * The inbox authorizes itself when it starts (users only, each hears only their own) and is re-checked by its
 * guard. Nothing is liveShared: every event carries the viewer's own counts. The Viewer fields it adds are
 * covered by the users domain's `Viewer: { '*': isSelf }`.
 */
export const inboxPermissions: DomainPermissions = {
  rules: {
    Subscription: { inbox: allow },
    InboxRoomAdded: { '*': allow },
    InboxRoomRemoved: { '*': allow },
    InboxDirectRoomCreated: { '*': allow },
    InboxMessageAdded: { '*': allow },
    InboxRoomRead: { '*': allow },
    InboxNotificationCreated: { '*': allow },
    InboxInviteReceived: { '*': allow },
  },
  nodes: {},
};
