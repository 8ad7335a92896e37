import type { AppServices } from '../../context.ts';

interface TypingState {
  /** When the indicator ends unless renewed. */
  expiresAt: number;
  /** When `typing: true` was last announced (renewals inside the throttle window are not). */
  announcedAt: number;
}

/** Where typing state lives: memory for one process, Redis (with expiry) for several. */
interface TypingStateStore {
  get(key: string): Promise<TypingState | null>;
  set(key: string, state: TypingState, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
}

function storeFor(app: AppServices): TypingStateStore {
  const redis = app.redis;
  if (redis) {
    const k = (key: string) => `${app.config.redis.keyPrefix}typing:${key}`;
    return {
      get: async (key) => {
        const v = await redis.get(k(key));
        return v ? (JSON.parse(v) as TypingState) : null;
      },
      set: async (key, state, ttlMs) => void (await redis.set(k(key), JSON.stringify(state), 'PX', ttlMs)),
      del: async (key) => void (await redis.del(k(key))),
    };
  }
  const map = new Map<string, TypingState>();
  return {
    get: async (key) => map.get(key) ?? null,
    set: async (key, state) => void map.set(key, state),
    del: async (key) => void map.delete(key),
  };
}

/**
 * Typing indicators: ephemeral (never stored in the database), throttled, and ending by themselves.
 * The instance that last renewed an indicator owns its expiry timer; a timer that finds the indicator
 * renewed since (perhaps on another instance) does nothing.
 */
class Typing {
  private readonly store: TypingStateStore;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly app: AppServices) {
    this.store = storeFor(app);
  }

  async set(roomId: string, userId: string, typing: boolean): Promise<boolean> {
    const { typingTtlMs: ttl, typingThrottleMs: throttle } = this.app.config.realtime;
    const key = `${roomId}:${userId}`;
    const now = Date.now();
    const state = await this.store.get(key);
    const active = state !== null && state.expiresAt > now;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (!typing) {
      await this.store.del(key);
      if (active) this.publish(roomId, userId, false);
      return false;
    }
    const announce = !active || now - state.announcedAt >= throttle;
    await this.store.set(key, { expiresAt: now + ttl, announcedAt: announce ? now : state.announcedAt }, ttl + 5000);
    if (announce) this.publish(roomId, userId, true);
    const timer = setTimeout(() => void this.expire(roomId, userId, key).catch(() => undefined), ttl + 10);
    timer.unref();
    this.timers.set(key, timer);
    return true;
  }

  private async expire(roomId: string, userId: string, key: string) {
    this.timers.delete(key);
    const state = await this.store.get(key);
    if (!state || state.expiresAt > Date.now()) return;
    await this.store.del(key);
    this.publish(roomId, userId, false);
  }

  private publish(roomId: string, userId: string, typing: boolean) {
    this.app.pubsub.publish('room:event', roomId, { kind: 'Typing', userId, typing });
  }

  close() {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

const instances = new WeakMap<AppServices, Typing>();

export function typingOf(app: AppServices): Typing {
  let t = instances.get(app);
  if (!t) instances.set(app, (t = new Typing(app)));
  return t;
}

export function closeTyping(app: AppServices) {
  instances.get(app)?.close();
  instances.delete(app);
}
