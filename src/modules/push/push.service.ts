import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { ECDH } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { z } from 'zod';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import type { Notification, PushSubscription } from '../../generated/sqlite/client.ts';
import { badInput, isUniqueViolation, notFound, parseInput } from '../../errors.ts';
import { presenceOf } from '../presence/presence.service.ts';
import { isPublicAddress } from '../webhooks/webhooks.address.ts';
import { sendPush } from './push.send.ts';
import { loadVapidKeys, type VapidKeys } from './push.vapid.ts';

/** What a push carries (JSON, decrypted by the browser's service worker). */
export interface PushPayload {
  type: 'mention' | 'dm' | 'notification';
  title: string;
  body: string;
  /** Where a click should lead, relative to the server's origin (`/app/rooms/<roomId>`). */
  url?: string;
  /** Global IDs. */
  roomId?: string;
  notificationId?: string;
  orgId: string;
}

const MAX_ENDPOINT = 2048;
const MAX_TITLE = 120;
const MAX_BODY = 1000;
/** Push services take 4096 bytes of encrypted payload; aes128gcm adds 103. This leaves room to spare. */
export const MAX_PAYLOAD_BYTES = 3000;
/** Sends waiting for a free slot, per instance; beyond this, pushes are dropped (and logged) rather than queued. */
const MAX_QUEUED = 10_000;

// ── The module's state, one per app (tests run several apps in one process) ──

interface PushState {
  /** Null while push is disabled. */
  keys: VapidKeys | null;
  ca?: string[];
  stopping: AbortController;
  active: number;
  queue: (() => Promise<void>)[];
  /** Work started in the background (reads, sends), awaited at stop until the drain deadline. */
  running: Set<Promise<unknown>>;
}
const states = new WeakMap<AppServices, PushState>();

/** Loads the VAPID keys (generating them on first start) and the extra CA; nothing when push is disabled. */
export async function startPush(app: AppServices) {
  const { enabled, caFile } = app.config.push;
  const keys = enabled ? await loadVapidKeys(app.config) : null;
  // `ca` replaces Node's trust store: the system's roots stay trusted beside the file's.
  const ca = enabled && caFile ? [...rootCertificates, await readFile(caFile, 'utf8')] : undefined;
  states.set(app, { keys, ca, stopping: new AbortController(), active: 0, queue: [], running: new Set() });
}

/** Drops what waits, aborts what is being sent, and waits for the rest until the deadline. */
export async function stopPush(app: AppServices, deadline: number) {
  const s = states.get(app);
  if (!s) return;
  states.delete(app);
  s.queue.length = 0;
  s.stopping.abort();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([Promise.allSettled([...s.running]), late]);
  clearTimeout(timer);
}

/** What browsers need to subscribe: whether push is on, and the key to pass as `applicationServerKey`. */
export function pushConfigOf(app: AppServices): { enabled: boolean; vapidPublicKey: string | null } {
  const keys = states.get(app)?.keys ?? null;
  return { enabled: !!keys, vapidPublicKey: keys?.publicKey ?? null };
}

// ── Subscriptions ──

/** Base64 (URL-safe or standard, padded or not) as web-push wants it: URL-safe, unpadded. */
const base64Key = (name: string, bytes: number) =>
  z
    .string()
    .trim()
    .max(200)
    .regex(/^[\w+/-]+={0,2}$/, 'must be base64url')
    .transform((s) => s.split('=')[0].replaceAll('+', '-').replaceAll('/', '_'))
    .refine((s) => Buffer.from(s, 'base64url').length === bytes, `must decode to ${bytes} bytes`)
    .refine((s) => name !== 'p256dh' || isP256Point(Buffer.from(s, 'base64url')), 'must be an uncompressed P-256 public key');

function isP256Point(key: Buffer) {
  if (key[0] !== 4) return false;
  try {
    ECDH.convertKey(key, 'prime256v1');
    return true;
  } catch {
    return false;
  }
}

const registerSchema = z.object({
  endpoint: z
    .string()
    .trim()
    .max(MAX_ENDPOINT, `must be at most ${MAX_ENDPOINT} characters`)
    .superRefine((s, ctx) => {
      const url = URL.canParse(s) ? new URL(s) : null;
      if (url?.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
      else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    }),
  p256dh: base64Key('p256dh', 65),
  auth: base64Key('auth', 16),
  userAgent: z.string().trim().max(500).nullish(),
});

/**
 * The push service's host must be public (unless push.allow_private): Confab will POST to it. A name is
 * resolved, and refused if any of its addresses is not public. Checked again at each send (DNS can change).
 */
async function checkEndpointHost(endpoint: string, allowPrivate: boolean) {
  if (allowPrivate) return;
  const host = new URL(endpoint).hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(host) ? [host] : await lookup(host, { all: true, verbatim: true }).then((l) => l.map((a) => a.address), () => null);
  if (!addresses?.length) throw badInput(`endpoint: ${host} could not be resolved`, 'endpoint');
  if (!addresses.every(isPublicAddress)) {
    throw badInput('endpoint: points to a loopback, private or link-local address (set push.allow_private to allow it)', 'endpoint');
  }
}

/**
 * Stores a browser's subscription for the user. Idempotent on the endpoint: registering it again updates its
 * keys and user agent and counts as new (createdAt). An endpoint registered by someone else moves to this user:
 * a browser belongs to whoever signs in on it, and its previous user stops receiving pushes there. At most
 * push.max_per_user subscriptions are kept per user: the oldest others go.
 */
export async function registerSubscription(app: AppServices, userId: string, input: unknown): Promise<PushSubscription> {
  const data = parseInput(registerSchema, input);
  await checkEndpointHost(data.endpoint, app.config.push.allowPrivate);
  const fields = { userId, p256dh: data.p256dh, auth: data.auth, userAgent: data.userAgent ?? null, createdAt: new Date(), lastPushAt: null };
  const upsert = () => db.pushSubscription.upsert({ where: { endpoint: data.endpoint }, create: { endpoint: data.endpoint, ...fields }, update: fields });
  // Two registrations of one endpoint at once: the loser of the insert updates the winner's row.
  const sub = await upsert().catch((err) => (isUniqueViolation(err) ? upsert() : Promise.reject(err)));
  await pruneSubscriptions(userId, app.config.push.maxPerUser);
  return sub;
}

/**
 * Keeps the user's newest `max` subscriptions (by createdAt, then id). Runs after each registration committed,
 * and every run keeps the same ones of what it sees: among registrations racing, the last to read sees all of
 * them, so the count ends at `max`. (Racing past the limit, a registration may lose its own new row to a newer
 * one: the newest win.)
 */
async function pruneSubscriptions(userId: string, max: number) {
  const surplus = await db.pushSubscription.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: max, select: { id: true } });
  if (surplus.length) await db.pushSubscription.deleteMany({ where: { userId, id: { in: surplus.map((s) => s.id) } } });
}

/** Removes one of the user's subscriptions, named by id or by endpoint (exactly one). NOT_FOUND for anyone else's. */
export async function unregisterSubscription(userId: string, by: { id?: string | null; endpoint?: string | null }): Promise<string> {
  if (!by.id === !by.endpoint) throw badInput('Give exactly one of pushSubscriptionId and endpoint', by.id ? 'endpoint' : 'pushSubscriptionId');
  const sub = await db.pushSubscription.findUnique({ where: by.id ? { id: by.id } : { endpoint: by.endpoint!.trim() }, select: { id: true, userId: true } });
  // deleteMany with the owner: a subscription that moved to someone else meanwhile stays theirs.
  if (!sub || sub.userId !== userId || !(await db.pushSubscription.deleteMany({ where: { id: sub.id, userId } })).count) throw notFound('Push subscription');
  return sub.id;
}

// ── Delivery ──

/** Cuts a text to `max` characters (whole code points), marking the cut. */
function clip(text: string, max: number) {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** The payload as sent: title and body clipped, and the body shortened until the JSON fits MAX_PAYLOAD_BYTES. */
export function encodePayload(p: PushPayload): string {
  const base = { ...p, title: clip(p.title, MAX_TITLE) };
  let max = MAX_BODY;
  for (;;) {
    const json = JSON.stringify({ ...base, body: clip(p.body, max) });
    if (Buffer.byteLength(json) <= MAX_PAYLOAD_BYTES || max <= 1) return json;
    max = Math.floor(max / 2);
  }
}

/** One push to one user; `compose` makes them for the users who are offline and have subscriptions. */
type Compose = (recipients: string[]) => Promise<{ userId: string; payload: PushPayload }[]>;

/**
 * Pushes to every subscription of each user who has no live socket anywhere (presence counts connections on
 * every instance; within the grace period after the last one closed, a user has none and is pushed to). Runs in
 * the background: the caller's operation never waits for it, and its failures are logged.
 */
export function pushToUsers(app: AppServices, userIds: string[], payload: PushPayload) {
  deliver(app, userIds, async (recipients) => recipients.map((userId) => ({ userId, payload })));
}

function deliver(app: AppServices, userIds: string[], compose: Compose) {
  const s = states.get(app);
  if (!s?.keys || !userIds.length) return;
  track(s, offlineSubscribers(app, [...new Set(userIds)]).then(async (subs) => {
    if (!subs.length || s.stopping.signal.aborted) return;
    const pushes = await compose([...new Set(subs.map((x) => x.userId))]);
    for (const { userId, payload } of pushes) {
      const body = encodePayload(payload);
      for (const sub of subs) if (sub.userId === userId) enqueue(app, s, () => sendOne(app, s, sub, body));
    }
  })).catch((err) => app.log.warn({ err }, 'web push: preparing pushes failed'));
}

async function offlineSubscribers(app: AppServices, userIds: string[]) {
  const presence = await presenceOf(app).store.get(userIds);
  const offline = userIds.filter((_, i) => presence[i].connections <= 0);
  if (!offline.length) return [];
  return db.pushSubscription.findMany({ where: { userId: { in: offline } } });
}

function track<T>(s: PushState, work: Promise<T>): Promise<T> {
  s.running.add(work);
  void work.finally(() => s.running.delete(work)).catch(() => undefined);
  return work;
}

/** At most push.concurrency sends at once per instance; the others wait their turn (up to MAX_QUEUED). */
function enqueue(app: AppServices, s: PushState, send: () => Promise<void>) {
  if (s.stopping.signal.aborted) return;
  if (s.queue.length >= MAX_QUEUED) return app.log.warn('web push: too many pushes waiting, one dropped');
  s.queue.push(send);
  pump(app, s);
}

function pump(app: AppServices, s: PushState) {
  while (s.active < app.config.push.concurrency && s.queue.length) {
    const send = s.queue.shift()!;
    s.active++;
    void track(s, send()).finally(() => {
      s.active--;
      pump(app, s);
    });
  }
}

async function sendOne(app: AppServices, s: PushState, sub: PushSubscription, body: string) {
  const { push } = app.config;
  const log = { subscriptionId: sub.id, userId: sub.userId, host: new URL(sub.endpoint).host };
  try {
    const res = await sendPush(sub, body, {
      vapid: s.keys!,
      subject: push.subject,
      ttlSec: push.ttlSec,
      timeoutMs: push.timeoutMs,
      allowPrivate: push.allowPrivate,
      ca: s.ca,
      signal: s.stopping.signal,
    });
    if (res.status >= 200 && res.status < 300) {
      await db.pushSubscription.updateMany({ where: { id: sub.id, endpoint: sub.endpoint }, data: { lastPushAt: new Date() } });
    } else if (res.status === 404 || res.status === 410) {
      // The browser unsubscribed or the subscription expired: it never comes back.
      await db.pushSubscription.deleteMany({ where: { id: sub.id, endpoint: sub.endpoint } });
      app.log.info({ ...log, status: res.status }, 'web push: subscription gone, removed');
    } else {
      app.log.warn({ ...log, status: res.status, answer: res.snippet }, 'web push: the push service refused a push');
    }
  } catch (err) {
    if (!s.stopping.signal.aborted) app.log.warn({ ...log, err }, 'web push: sending failed');
  }
}

// ── What is pushed ──

const roomUrl = (roomId: string) => `/app/rooms/${roomId}`;
const localId = (globalId: unknown, typename: string): string | null => {
  if (typeof globalId !== 'string') return null;
  try {
    const d = decodeGlobalID(globalId);
    return d.typename === typename ? d.id : null;
  } catch {
    return null;
  }
};
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * After notifications are stored (announceNotifications): a mention (topic `mention`) is pushed as `mention`,
 * with who wrote it and where; any other notification as `notification`, titled by the payload's `title` (or
 * the org and topic) with the payload's `body` (or `message`) as its text.
 */
export function pushNotifications(app: AppServices, rows: Notification[]) {
  if (!states.get(app)?.keys || !rows.length) return;
  deliver(app, rows.map((n) => n.userId), async (recipients) => {
    const mine = rows.filter((n) => recipients.includes(n.userId));
    const payloadOf = (n: Notification) => (n.payload && typeof n.payload === 'object' ? (n.payload as Record<string, unknown>) : {});
    const mentions = mine.filter((n) => n.topic === 'mention');
    const authorIds = [...new Set(mentions.map((n) => localId(payloadOf(n).authorId, 'User')).filter((id): id is string => !!id))];
    const roomIds = [...new Set(mentions.map((n) => localId(payloadOf(n).roomId, 'Room')).filter((id): id is string => !!id))];
    const orgIds = [...new Set(mine.map((n) => n.orgId))];
    const [authors, rooms, orgs] = await Promise.all([
      authorIds.length ? db.user.findMany({ where: { id: { in: authorIds } }, select: { id: true, name: true } }) : [],
      roomIds.length ? db.room.findMany({ where: { id: { in: roomIds } }, select: { id: true, name: true } }) : [],
      db.org.findMany({ where: { id: { in: orgIds } }, select: { id: true, name: true } }),
    ]);
    const nameOf = (list: { id: string; name: string | null }[], id: string | null) => (id ? list.find((x) => x.id === id)?.name : undefined) ?? undefined;
    return mine.map((n) => {
      const p = payloadOf(n);
      const orgId = encodeGlobalID('Org', n.orgId);
      const notificationId = encodeGlobalID('Notification', n.id);
      if (n.topic === 'mention') {
        const author = nameOf(authors, localId(p.authorId, 'User')) ?? 'Someone';
        const room = nameOf(rooms, localId(p.roomId, 'Room'));
        const roomId = text(p.roomId);
        return {
          userId: n.userId,
          payload: { type: 'mention', title: room ? `${author} mentioned you in ${room}` : `${author} mentioned you`, body: text(p.snippet) ?? '', ...(roomId ? { roomId, url: roomUrl(roomId) } : {}), notificationId, orgId },
        };
      }
      const org = nameOf(orgs, n.orgId) ?? 'Notification';
      return { userId: n.userId, payload: { type: 'notification', title: text(p.title) ?? `${org}: ${n.topic}`, body: text(p.body) ?? text(p.message) ?? '', notificationId, orgId } };
    });
  });
}

/** After a message in a DM room committed: pushed as `dm` to the other member(s), titled by the sender's name. */
export function pushDirectMessage(app: AppServices, orgId: string, message: { roomId: string; senderId: string; content: string }, mentionedIds: string[] = []) {
  const s = states.get(app);
  if (!s?.keys) return;
  const { roomId, senderId, content } = message;
  // Someone the message mentions gets the mention's push (its notification) instead of a second one for the DM.
  track(s, db.roomMember.findMany({ where: { roomId, userId: { notIn: [senderId, ...mentionedIds] } }, select: { userId: true } }))
    .then((members) =>
      deliver(app, members.map((m) => m.userId), async (recipients) => {
        const sender = await db.user.findUnique({ where: { id: senderId }, select: { name: true } });
        const globalRoomId = encodeGlobalID('Room', roomId);
        const payload: PushPayload = { type: 'dm', title: sender?.name ?? 'New message', body: content, roomId: globalRoomId, url: roomUrl(globalRoomId), orgId: encodeGlobalID('Org', orgId) };
        return recipients.map((userId) => ({ userId, payload }));
      }),
    )
    .catch((err) => app.log.warn({ err, roomId }, 'web push: reading the DM members failed'));
}
