import { encodeGlobalID } from '@pothos/plugin-relay';
import { LRUCache } from 'lru-cache';
import { db } from '../../db/client.ts';
import type { Topics } from '../../live/bus.ts';
import { KV_EVENT_TYPES } from '../kv/kv.topics.ts';

/** Event types a webhook may subscribe to (the GraphQL enum `WebhookEvent`). */
export const WEBHOOK_EVENTS = [
  'ROOM_MESSAGE_ADDED',
  'THREAD_MESSAGE_COMPLETED',
  'INVOICE_PAID',
  'SESSION_STATE_CHANGED',
  'KV_KEY_CHANGED',
  'MEMBER_JOINED',
  'MEMBER_LEFT',
  // issue 22: room membership and moderation, rooms, reports, orgs
  'ROOM_MEMBER_ADDED',
  'ROOM_MEMBER_REMOVED',
  'ROOM_MEMBER_UPDATED',
  'ROOM_MEMBER_BANNED',
  'ROOM_MEMBER_UNBANNED',
  'ROOM_UPDATED',
  'ROOM_DELETED',
  'MESSAGE_REPORTED',
  'REPORT_RESOLVED',
  'ORG_UPDATED',
  'ORG_DELETED',
  'ORG_OWNERSHIP_TRANSFERRED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/**
 * What a matched event needs later, off the publisher's path: its org (whose webhooks hear it; null
 * when it has none, such as an anonymous prepaid session) and its `data`.
 */
export interface MatchedEvent {
  org(): string | null | Promise<string | null>;
  data(): unknown;
}

/** How one published topic becomes one webhook event type. */
export interface EventSource {
  topic: keyof Topics;
  type: WebhookEventType;
  /** Runs inside `publish`, for every event of the topic: a cheap test, nothing awaited. */
  match(args: unknown): MatchedEvent | false | null;
}

function source<K extends keyof Topics>(topic: K, type: WebhookEventType, match: (args: Topics[K]) => MatchedEvent | false | null): EventSource {
  return { topic, type, match: match as (args: unknown) => MatchedEvent | false | null };
}

const gid = encodeGlobalID;
const gidOrNull = (type: string, id: string | null | undefined) => (id ? gid(type, id) : null);

/** A room, thread, session or invoice never changes org, so the answer is cached by id. */
const orgs = new LRUCache<string, string>({ max: 20_000 });
const ORG_QUERIES = {
  Room: (id: string) => db.room.findUnique({ where: { id }, select: { orgId: true } }),
  Thread: (id: string) => db.thread.findUnique({ where: { id }, select: { orgId: true } }),
  Session: (id: string) => db.session.findUnique({ where: { id }, select: { orgId: true } }),
  Invoice: async (id: string) => (await db.invoice.findUnique({ where: { id }, select: { session: { select: { orgId: true } } } }))?.session ?? null,
};
async function orgOf(kind: keyof typeof ORG_QUERIES, id: string): Promise<string | null> {
  const key = `${kind}:${id}`;
  const hit = orgs.get(key);
  if (hit) return hit;
  const orgId = (await ORG_QUERIES[kind](id))?.orgId ?? null;
  if (orgId) orgs.set(key, orgId);
  return orgId;
}

/**
 * Every event webhooks deliver, as (topic, type, match). Adding one is a line per field: pick the
 * topic, test the payload, name the org, shape `data` (global IDs, JSON only).
 */
export const EVENT_SOURCES: EventSource[] = [
  source('room:event', 'ROOM_MESSAGE_ADDED', ([roomId, e]) =>
    e.kind === 'MessageAdded' && {
      org: () => orgOf('Room', roomId),
      data: () => ({
        roomId: gid('Room', roomId),
        messageId: gid('RoomMessage', e.message.id),
        seq: e.message.seq,
        authorId: gid('User', e.message.senderId),
        content: e.message.content,
        metadata: e.message.meta,
        clientMsgId: e.message.clientMsgId,
        parentId: gidOrNull('RoomMessage', e.message.parentId),
        mentionIds: (e.message.mentionIds ?? []).map((id) => gid('User', id)),
        createdAt: e.message.createdAt,
        // The files sent with it (global IDs; read them, and a download URL, with node(id) as a member).
        attachmentIds: (e.message.attachmentIds ?? []).map((id) => gid('Attachment', id)),
      }),
    },
  ),
  // The room's row is gone by the time the worker asks: the event carries its org.
  source('room:event', 'ROOM_DELETED', ([roomId, e]) =>
    e.kind === 'RoomDeleted' && { org: () => e.orgId, data: () => ({ roomId: gid('Room', roomId) }) },
  ),
  source('thread:event', 'THREAD_MESSAGE_COMPLETED', ([threadId, e]) =>
    e.type === 'AssistantDone' && { org: () => orgOf('Thread', threadId), data: () => threadMessage(e.messageId) },
  ),
  source('invoice:updated', 'INVOICE_PAID', ([invoiceId, e]) =>
    e.state === 'PAID' && { org: () => orgOf('Invoice', invoiceId), data: () => paidInvoice(invoiceId) },
  ),
  source('session:event', 'SESSION_STATE_CHANGED', ([sessionId, e]) =>
    e.type === 'SessionStateChanged' && {
      org: () => orgOf('Session', sessionId),
      data: () => ({ sessionId: gid('Session', sessionId), state: e.state, balanceSats: e.balanceSats, expiresAt: e.expiresAt }),
    },
  ),
  source('kv:event', 'KV_KEY_CHANGED', ([, e]) => ({
    org: () => e.orgId,
    data: () => ({
      projectId: gid('Project', e.projectId),
      kvInstanceId: gid('KvInstance', e.instanceId),
      version: e.version,
      event: KV_EVENT_TYPES[e.kind],
      name: e.name,
      type: e.key?.type ?? null,
      // Images can be megabytes: receivers fetch them through the API instead.
      value: e.key && e.key.type !== 'IMAGE' ? e.key.value : null,
      at: e.at,
    }),
  })),
  source('org:membershipChanged', 'MEMBER_JOINED', ([orgId, e]) =>
    e.change === 'JOINED' && { org: () => orgId, data: () => ({ userId: gid('User', e.userId), role: e.role }) },
  ),
  source('org:membershipChanged', 'MEMBER_LEFT', ([orgId, e]) =>
    e.role === null && { org: () => orgId, data: () => ({ userId: gid('User', e.userId) }) },
  ),
  source('org:updated', 'ORG_UPDATED', ([orgId, e]) => ({
    org: () => orgId,
    data: () => ({ name: e.name, slug: e.slug, retentionDays: e.retentionDays, changed: e.changed }),
  })),
  source('org:ownershipTransferred', 'ORG_OWNERSHIP_TRANSFERRED', ([orgId, e]) => ({
    org: () => orgId,
    data: () => ({ fromUserId: gid('User', e.fromUserId), toUserId: gid('User', e.toUserId) }),
  })),
  // ORG_DELETED has no source here: the org's webhooks are deleted with it, so deleteOrg sends it from the
  // webhooks it read in its transaction (webhooks.detached.ts).
  // ── issue 22: room membership and moderation (room:event carries what members see; bans and reports go on moderation:event) ──
  source('room:event', 'ROOM_MEMBER_ADDED', ([roomId, e]) =>
    e.kind === 'MemberJoined' && { org: () => orgOf('Room', roomId), data: () => ({ roomId: gid('Room', roomId), userId: gid('User', e.userId), role: e.role }) },
  ),
  source('room:event', 'ROOM_MEMBER_REMOVED', ([roomId, e]) =>
    e.kind === 'MemberLeft' && {
      org: () => orgOf('Room', roomId),
      data: () => ({ roomId: gid('Room', roomId), userId: gid('User', e.userId), reason: e.reason ?? 'LEFT' }),
    },
  ),
  source('room:event', 'ROOM_MEMBER_UPDATED', ([roomId, e]) =>
    e.kind === 'MemberUpdated' && {
      org: () => orgOf('Room', roomId),
      data: () => ({ roomId: gid('Room', roomId), userId: gid('User', e.userId), role: e.role, muted: e.muted, muteExpiresAt: e.muteExpiresAt }),
    },
  ),
  source('room:event', 'ROOM_UPDATED', ([roomId, e]) =>
    e.kind === 'RoomUpdated' && { org: () => orgOf('Room', roomId), data: () => roomNow(roomId, e.change ?? 'UPDATED') },
  ),
  source('moderation:event', 'ROOM_MEMBER_BANNED', ([orgId, e]) =>
    e.kind === 'MemberBanned' && {
      org: () => orgId,
      data: () => ({
        roomId: gid('Room', e.roomId),
        userId: gid('User', e.userId),
        banId: gid('RoomBan', e.banId),
        reason: e.reason,
        expiresAt: e.expiresAt,
        bannedById: gidOrNull('User', e.byUserId),
        removed: e.removed,
      }),
    },
  ),
  source('moderation:event', 'ROOM_MEMBER_UNBANNED', ([orgId, e]) =>
    e.kind === 'MemberUnbanned' && {
      org: () => orgId,
      data: () => ({ roomId: gid('Room', e.roomId), userId: gid('User', e.userId), banId: gid('RoomBan', e.banId), unbannedById: gidOrNull('User', e.byUserId) }),
    },
  ),
  source('moderation:event', 'MESSAGE_REPORTED', ([orgId, e]) =>
    e.kind === 'MessageReported' && {
      org: () => orgId,
      data: () => ({
        reportId: gid('Report', e.reportId),
        roomId: gid('Room', e.roomId),
        messageId: gid('RoomMessage', e.messageId),
        authorId: gid('User', e.authorId),
        reporterId: gid('User', e.reporterId),
        reason: e.reason,
        createdAt: e.createdAt,
      }),
    },
  ),
  source('moderation:event', 'REPORT_RESOLVED', ([orgId, e]) =>
    e.kind === 'ReportResolved' && {
      org: () => orgId,
      data: () => ({
        reportId: gid('Report', e.reportId),
        reportIds: e.reportIds.map((id) => gid('Report', id)),
        roomId: gid('Room', e.roomId),
        messageId: gidOrNull('RoomMessage', e.messageId),
        action: e.action,
        status: e.status,
        resolvedById: gidOrNull('User', e.resolvedById),
        note: e.note,
        resolvedAt: e.resolvedAt,
      }),
    },
  ),
];

/** Sources by topic, so that `publish` of an unmapped topic costs one Map lookup. */
export const SOURCES_BY_TOPIC = new Map<string, EventSource[]>();
for (const s of EVENT_SOURCES) SOURCES_BY_TOPIC.set(s.topic, [...(SOURCES_BY_TOPIC.get(s.topic) ?? []), s]);

/** ROOM_UPDATED's data: what changed, and the room as it is when the delivery is written. */
async function roomNow(roomId: string, change: string) {
  const r = await db.room.findUnique({ where: { id: roomId }, select: { name: true, topic: true, frozen: true, archivedAt: true } });
  return { roomId: gid('Room', roomId), change, name: r?.name ?? null, topic: r?.topic ?? null, frozen: r?.frozen ?? false, archivedAt: r?.archivedAt?.toISOString() ?? null };
}

async function threadMessage(messageId: string) {
  const m = await db.message.findUnique({ where: { id: messageId } });
  if (!m) return null;
  return {
    threadId: gidOrNull('Thread', m.threadId),
    sessionId: gid('Session', m.sessionId),
    messageId: gid('ThreadMessage', m.id),
    role: m.role,
    status: m.status,
    content: m.content,
    model: m.model,
    promptTokens: m.promptTokens,
    completionTokens: m.completionTokens,
    createdAt: m.createdAt.toISOString(),
  };
}

async function paidInvoice(invoiceId: string) {
  const i = await db.invoice.findUnique({ where: { id: invoiceId }, include: { session: { select: { threadId: true } } } });
  if (!i) return null;
  return {
    invoiceId: gid('Invoice', i.id),
    sessionId: gid('Session', i.sessionId),
    threadId: gidOrNull('Thread', i.session.threadId),
    kind: i.kind,
    amountSats: i.amountSats,
    paymentHash: i.paymentHash,
    paidAt: i.paidAt?.toISOString() ?? null,
  };
}
