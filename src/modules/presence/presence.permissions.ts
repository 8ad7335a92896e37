import type { DomainPermissions } from '../../auth/permissions.ts';
import { allow, idOf, isUser, ruleOf } from '../../auth/rules.ts';
import { checkRoom } from '../rooms/rooms.access.ts';

export const presencePermissions: DomainPermissions = {
  rules: {
    Mutation: {
      setPresence: isUser,
      setTyping: ruleOf('canTypeInRoom', (ctx, args) => checkRoom(ctx, idOf(args.input.roomId, 'Room', 'roomId'), { write: true })),
    },
    // Authorized when it starts (org members, or API keys of the org with READ).
    Subscription: { presence: allow },
    PresenceChange: { '*': allow },
    SetPresencePayload: { '*': allow },
    SetTypingPayload: { '*': allow },
  },
  // An ACT_AS key acting as a member may show them typing in a room (not set their presence).
  acting: { Mutation: ['setTyping'], SetTypingPayload: '*' },
  nodes: {},
  // Live events executed once for a group of subscribers may select these (src/live/sharing.ts): each value is
  // the same for every viewer who receives the event (nothing read from ctx.viewer).
  liveShared: { Subscription: ['presence'], PresenceChange: '*' },
};
