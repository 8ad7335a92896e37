import type { Redis } from 'ioredis';
import type { Viewer } from './auth/viewer.ts';
import { rateLimited } from './errors.ts';

export interface HitResult {
  allowed: boolean;
  count: number;
  retryAfterSec: number;
}

/**
 * Fixed-window counters. In memory for one process; in Redis when several instances share the
 * load, so that an attacker cannot multiply the limit by the number of instances.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowSec: number): Promise<HitResult>;
  peek(key: string, limit: number): Promise<HitResult>;
  reset(key: string): Promise<void>;
}

export function createRateLimiter(redis?: Redis, keyPrefix = 'confab:'): RateLimiter {
  return redis ? redisLimiter(redis, keyPrefix) : memoryLimiter();
}

function memoryLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const current = (key: string) => {
    const w = windows.get(key);
    if (w && w.resetAt <= Date.now()) windows.delete(key);
    return windows.get(key);
  };
  const result = (count: number, limit: number, resetAt: number): HitResult => ({
    allowed: count <= limit,
    count,
    retryAfterSec: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)),
  });
  return {
    async hit(key, limit, windowSec) {
      let w = current(key);
      if (!w) {
        // Drop expired windows now and then so the map cannot grow without bound.
        if (windows.size > 10_000) for (const k of windows.keys()) current(k);
        w = { count: 0, resetAt: Date.now() + windowSec * 1000 };
        windows.set(key, w);
      }
      w.count += 1;
      return result(w.count, limit, w.resetAt);
    },
    async peek(key, limit) {
      const w = current(key);
      return w ? result(w.count, limit, w.resetAt) : { allowed: true, count: 0, retryAfterSec: 0 };
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

function redisLimiter(redis: Redis, keyPrefix: string): RateLimiter {
  const k = (key: string) => `${keyPrefix}rl:${key}`;
  return {
    async hit(key, limit, windowSec) {
      const [[, count], [, ttl]] = (await redis
        .multi()
        .incr(k(key))
        .pttl(k(key))
        .exec()) as [[null, number], [null, number]];
      if (ttl < 0) await redis.pexpire(k(key), windowSec * 1000);
      const ms = ttl < 0 ? windowSec * 1000 : ttl;
      return { allowed: count <= limit, count, retryAfterSec: Math.max(1, Math.ceil(ms / 1000)) };
    },
    async peek(key, limit) {
      const [count, ttl] = await Promise.all([redis.get(k(key)), redis.pttl(k(key))]);
      const n = Number(count ?? 0);
      return { allowed: n <= limit, count: n, retryAfterSec: Math.max(0, Math.ceil(ttl / 1000)) };
    },
    async reset(key) {
      await redis.del(k(key));
    },
  };
}

/** The general request limit (config `rate_limit`); a limit of 0 is off. */
export interface RequestRateConfig {
  perClient: number;
  perOrg: number;
  windowSec: number;
}

/** Who a request counts against: its credential (else its address), and the org an API key acts for. */
export function requestRateKeys(viewer: Viewer, clientIp: string): { client: string; org?: string } {
  switch (viewer.kind) {
    case 'user':
      return { client: `u:${viewer.userId}` };
    case 'apiKey':
      return { client: `k:${viewer.apiKeyId}`, org: viewer.orgId };
    case 'session':
      return { client: `s:${viewer.sessionId}` };
    default:
      return { client: `ip:${clientIp}` };
  }
}

/**
 * Counts one request (a GraphQL operation, a /v1 call, a WebSocket subscribe) against the general
 * per-client and per-org limits; throws RATE_LIMITED with `retryAfter` (seconds) when either is spent.
 */
export async function enforceRequestRate(limiter: RateLimiter, limits: RequestRateConfig, viewer: Viewer, clientIp: string): Promise<void> {
  const keys = requestRateKeys(viewer, clientIp);
  const checks: [string, number, string][] = [[`req:c:${keys.client}`, limits.perClient, 'this client']];
  if (keys.org) checks.push([`req:o:${keys.org}`, limits.perOrg, 'this org']);
  for (const [key, limit, who] of checks) {
    if (!limit) continue;
    const hit = await limiter.hit(key, limit, limits.windowSec);
    if (!hit.allowed) {
      throw rateLimited(`Too many requests from ${who}: at most ${limit} per ${limits.windowSec} s; retry in ${hit.retryAfterSec} s`, hit.retryAfterSec);
    }
  }
}
