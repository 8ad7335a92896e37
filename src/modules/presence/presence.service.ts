import { randomUUID } from 'node:crypto';
import type { AppServices } from '../../context.ts';
import { db } from '../../db/client.ts';
import { memoryPresenceStore, redisPresenceStore, statusOf, type PresenceStore } from './presence.store.ts';
import type { PresenceStatus } from './presence.topics.ts';

/** One per app (tests run several apps in one process), made on first use. */
class Presence {
  readonly store: PresenceStore;
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly app: AppServices) {
    const heartbeatMs = app.config.realtime.presenceHeartbeatMs;
    this.store = app.redis ? redisPresenceStore(app.redis, randomUUID(), heartbeatMs, app.config.redis.keyPrefix) : memoryPresenceStore();
  }

  /** A connection opened: ONLINE (or AWAY, when the client says so) is announced if the user was OFFLINE. */
  async connected(userId: string, away: boolean) {
    clearTimeout(this.graceTimers.get(userId));
    this.graceTimers.delete(userId);
    const [before] = await this.store.get([userId]);
    await this.store.setAway(userId, away);
    await this.store.connect(userId);
    const was = statusOf(before);
    const now = away ? 'AWAY' : 'ONLINE';
    if (was === now) return;
    // Only when what others see changes: another connection of the user (a reconnect storm, a second tab)
    // writes nothing, and lastSeenAt is written again when the last connection goes.
    await db.user.update({ where: { id: userId }, data: { lastSeenAt: new Date() } }).catch(() => undefined);
    await this.announce(userId, now, null);
  }

  /**
   * A connection closed. When it was the user's last one anywhere, OFFLINE is announced after the grace
   * period, unless they came back (on any instance) meanwhile.
   */
  async disconnected(userId: string) {
    const graceMs = this.app.config.realtime.presenceGraceMs;
    const after = await this.store.disconnect(userId, Date.now() + graceMs);
    if (after.connections > 0) return;
    clearTimeout(this.graceTimers.get(userId));
    const timer = setTimeout(() => {
      this.graceTimers.delete(userId);
      void this.expire(userId).catch((err) => this.app.log.warn({ err, userId }, 'presence expiry failed'));
    }, graceMs + 20);
    timer.unref();
    this.graceTimers.set(userId, timer);
  }

  private async expire(userId: string) {
    const [state] = await this.store.get([userId]);
    if (statusOf(state) !== 'OFFLINE') return;
    const user = await db.user.update({ where: { id: userId }, data: { lastSeenAt: new Date() } });
    await this.announce(userId, 'OFFLINE', user.lastSeenAt);
  }

  /** AWAY or back to ONLINE, as the client says; announced only if it changes what others see. */
  async setAway(userId: string, away: boolean): Promise<PresenceStatus> {
    const [before] = await this.store.get([userId]);
    await this.store.setAway(userId, away);
    const after = statusOf({ ...before, away });
    if (statusOf(before) !== after) await this.announce(userId, after, null);
    return after;
  }

  async statuses(userIds: string[]): Promise<PresenceStatus[]> {
    const now = Date.now();
    return (await this.store.get(userIds)).map((s) => statusOf(s, now));
  }

  private async announce(userId: string, status: PresenceStatus, lastSeenAt: Date | null) {
    const orgs = await db.membership.findMany({ where: { userId }, select: { orgId: true } });
    for (const { orgId } of orgs) {
      this.app.pubsub.publish('presence:changed', orgId, { userId, status, lastSeenAt: lastSeenAt?.toISOString() ?? null });
    }
  }

  async close() {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    await this.store.close();
  }
}

const instances = new WeakMap<AppServices, Presence>();

export function presenceOf(app: AppServices): Presence {
  let p = instances.get(app);
  if (!p) instances.set(app, (p = new Presence(app)));
  return p;
}

export async function closePresence(app: AppServices) {
  await instances.get(app)?.close();
  instances.delete(app);
}
