import type { OrgRole, RoomRole } from '../gql/graphql';

/** Room roles by rank, as the server orders them (OWNER 4 > ADMIN 3 > MODERATOR 2 > MEMBER 1). */
export const ROOM_ROLES: RoomRole[] = ['OWNER', 'ADMIN', 'MODERATOR', 'MEMBER'];
const RANK: Record<RoomRole, number> = { OWNER: 4, ADMIN: 3, MODERATOR: 2, MEMBER: 1 };

/** The rank of a role; 0 for no role (not a member). */
export const rank = (role: RoomRole | null | undefined) => (role ? RANK[role] : 0);
export const atLeast = (role: RoomRole | null | undefined, min: RoomRole) => rank(role) >= RANK[min];

/** Only what the server would allow is offered: controls the viewer's role cannot use are not shown. */
export function roomPowers(viewerRole: RoomRole | null | undefined, roomType: string, orgRole?: OrgRole | null) {
  const dm = roomType === 'DM';
  return {
    /** Mute and unmute members ranked below, see bans, pin messages (DMs: either member may pin). */
    moderate: !dm && atLeast(viewerRole, 'MODERATOR'),
    pin: dm || atLeast(viewerRole, 'MODERATOR'),
    /** Set roles, ban, unban and remove members ranked below; freeze and archive. */
    admin: !dm && atLeast(viewerRole, 'ADMIN'),
    /** The room's OWNER, or the org's OWNER/ADMIN. */
    delete: (!dm && viewerRole === 'OWNER') || orgRole === 'OWNER' || orgRole === 'ADMIN',
    /** May act on a member of this role (strictly below the viewer). */
    outranks: (target: RoomRole) => rank(viewerRole) > RANK[target],
    /** Roles the viewer may give: those below their own, and OWNER (a transfer) when they are the OWNER. */
    assignable: ROOM_ROLES.filter((r) => RANK[r] < rank(viewerRole) || (r === 'OWNER' && viewerRole === 'OWNER')),
  };
}

/** Durations offered for mutes and bans; `null` is "until lifted". */
export const DURATIONS: Array<{ label: string; ms: number | null }> = [
  { label: '10 minutes', ms: 10 * 60_000 },
  { label: '1 hour', ms: 60 * 60_000 },
  { label: '1 day', ms: 24 * 60 * 60_000 },
  { label: 'Until lifted', ms: null },
];

/** The expiry for a duration picked from DURATIONS (by its index as a string), or null. */
export function expiryFrom(index: string): string | null {
  const ms = DURATIONS[Number(index)]?.ms;
  return ms == null ? null : new Date(Date.now() + ms).toISOString();
}
