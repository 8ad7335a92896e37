import type { Redis } from 'ioredis';
import type { PresenceStatus } from './presence.topics.ts';

/** What is known of one user across every instance. */
export interface PresenceState {
  connections: number;
  away: boolean;
  /** While connections are 0 and this is in the future, the user still counts as present. */
  graceUntil: number;
}

export function statusOf(s: PresenceState, now = Date.now()): PresenceStatus {
  if (s.connections <= 0 && s.graceUntil <= now) return 'OFFLINE';
  return s.away ? 'AWAY' : 'ONLINE';
}

/**
 * Live connection counts per user. In memory for one process; in Redis for several, where each
 * instance keeps its own counter per user (a hash field) and a heartbeat: the counters of an instance
 * that stops beating (crashed) stop counting after three missed beats.
 */
export interface PresenceStore {
  /** Counts one more connection of this instance and clears any grace period; returns the state before. */
  connect(userId: string): Promise<PresenceState>;
  /** Counts one connection less; when none is left anywhere, starts the grace period. Returns the state after. */
  disconnect(userId: string, graceUntil: number): Promise<PresenceState>;
  setAway(userId: string, away: boolean): Promise<void>;
  get(userIds: string[]): Promise<PresenceState[]>;
  close(): Promise<void>;
}

export function memoryPresenceStore(): PresenceStore {
  const users = new Map<string, PresenceState>();
  const state = (id: string) => users.get(id) ?? { connections: 0, away: false, graceUntil: 0 };
  return {
    async connect(userId) {
      const before = state(userId);
      users.set(userId, { ...before, connections: before.connections + 1, graceUntil: 0 });
      return before;
    },
    async disconnect(userId, graceUntil) {
      const s = state(userId);
      const connections = Math.max(0, s.connections - 1);
      const after = { ...s, connections, graceUntil: connections ? s.graceUntil : graceUntil };
      users.set(userId, after);
      return after;
    },
    async setAway(userId, away) {
      users.set(userId, { ...state(userId), away });
    },
    async get(userIds) {
      const now = Date.now();
      return userIds.map((id) => {
        const s = state(id);
        if (statusOf(s, now) === 'OFFLINE') users.delete(id);
        return s;
      });
    },
    async close() {},
  };
}

export function redisPresenceStore(redis: Redis, instanceId: string, heartbeatMs: number, keyPrefix = 'confab:'): PresenceStore {
  const INSTANCES = `${keyPrefix}presence:instances`;
  const userKey = (userId: string) => `${keyPrefix}presence:${userId}`;
  const field = `c:${instanceId}`;
  const beat = () => redis.zadd(INSTANCES, Date.now() + 3 * heartbeatMs, instanceId).catch(() => 0);
  void beat();
  const timer = setInterval(beat, heartbeatMs);
  timer.unref();

  async function read(userIds: string[]): Promise<PresenceState[]> {
    const live = new Set(await redis.zrangebyscore(INSTANCES, Date.now(), '+inf'));
    live.add(instanceId);
    const pipe = redis.pipeline();
    for (const id of userIds) pipe.hgetall(userKey(id));
    const rows = ((await pipe.exec()) ?? []).map(([, v]) => (v ?? {}) as Record<string, string>);
    const stale = redis.pipeline();
    const states = rows.map((h, i) => {
      let connections = 0;
      for (const [k, v] of Object.entries(h)) {
        if (!k.startsWith('c:')) continue;
        // Counters of an instance that stopped beating (crashed) no longer count; drop them.
        if (live.has(k.slice(2))) connections += Math.max(0, Number(v));
        else stale.hdel(userKey(userIds[i]), k);
      }
      return { connections, away: h.away === '1', graceUntil: Number(h.grace ?? 0) };
    });
    if (stale.length) void stale.exec().catch(() => undefined);
    return states;
  }

  return {
    async connect(userId) {
      const [before] = await read([userId]);
      await redis.multi().hincrby(userKey(userId), field, 1).hdel(userKey(userId), 'grace').exec();
      return before;
    },
    async disconnect(userId, graceUntil) {
      const left = await redis.hincrby(userKey(userId), field, -1);
      if (left <= 0) await redis.hdel(userKey(userId), field);
      const [after] = await read([userId]);
      if (after.connections > 0) return after;
      await redis.hset(userKey(userId), 'grace', String(graceUntil));
      return { ...after, graceUntil };
    },
    async setAway(userId, away) {
      await redis.hset(userKey(userId), 'away', away ? '1' : '0');
    },
    get: read,
    async close() {
      clearInterval(timer);
      await redis.zrem(INSTANCES, instanceId).catch(() => 0);
    },
  };
}
