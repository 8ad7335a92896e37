import { db, type Tx } from '../../db/client.ts';
import type { Viewer } from '../../context.ts';

/**
 * Audit actions, `<area>.<object>.<verb>`: the moderation and admin actions Org.auditLog lists. A new action
 * is added here (and to docs/api/moderation.md), so the list stays the one place that names them.
 */
export const AUDIT_ACTIONS = [
  // rooms: roles, bans, mutes, freezing, archiving, deletion, pins, message removal by moderators
  'room.member.role',
  'room.member.ban',
  'room.member.unban',
  'room.member.mute',
  'room.member.unmute',
  'room.member.remove',
  'room.freeze',
  'room.unfreeze',
  'room.archive',
  'room.unarchive',
  'room.delete',
  'room.message.pin',
  'room.message.unpin',
  'room.message.delete',
  // reports
  'report.create',
  'report.resolve',
  // orgs
  'org.update',
  'org.ownership.transfer',
  'org.member.role',
  'org.member.remove',
  'org.retention.prune',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditInput {
  orgId: string;
  /** Who acted: a viewer (user, API key, or an API key acting as a user), or null for the server itself. */
  actor: Viewer | null;
  action: AuditAction;
  /** The GraphQL type name of what was acted on (`Room`, `User`, `RoomMessage`, `Report`, `Org`) and its raw id. */
  targetType: string;
  targetId: string;
  /** Details (JSON, no secrets): role before and after, expiry, reason, counts. */
  data?: Record<string, unknown>;
}

const actorOf = (v: Viewer | null) =>
  !v || v.kind === 'anonymous'
    ? { actorId: null, apiKeyId: null }
    : v.kind === 'user'
      ? { actorId: v.userId, apiKeyId: v.via?.apiKeyId ?? null }
      : v.kind === 'apiKey'
        ? { actorId: null, apiKeyId: v.apiKeyId }
        : { actorId: null, apiKeyId: null };

/**
 * Appends one entry. Pass the transaction that makes the change, so the entry and the change commit together
 * (or neither does); entries are never updated (the databases refuse: see the migration's trigger) or deleted
 * but with their org.
 */
export async function recordAudit(client: Tx | typeof db, entry: AuditInput): Promise<void> {
  await client.auditEntry.create({
    data: {
      orgId: entry.orgId,
      ...actorOf(entry.actor),
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      data: (entry.data ?? undefined) as never,
    },
  });
}
