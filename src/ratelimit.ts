import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Viewer } from './auth/identity.ts';
import { rateLimited } from './errors.ts';

export interface HitResult {
  allowed: boolean;
  count: number;
  retryAfterSec: number;
}

/**
 * Fixed-window counters from rate-limiter-flexible: in memory for one process, in Redis when several
 * instances share the load (an attacker cannot multiply a limit by the number of instances). Every hit
 * counts atomically before its answer (a Lua script on Redis), so attempts made at the same moment cannot
 * all pass a limit; a check-then-count would let them. Each key is used with one limit and window.
 */
export interface RateLimiter {
  /** Counts one attempt; allowed while the window's count is within `limit`. */
  hit(key: string, limit: number, windowSec: number): Promise<HitResult>;
  /** Gives one counted attempt back (it turned out not to count, such as a login that succeeded). */
  refund(key: string, limit: number, windowSec: number): Promise<void>;
  /** Forgets the key's window. */
  reset(key: string, limit: number, windowSec: number): Promise<void>;
}

export function createRateLimiter(redis?: Redis, keyPrefix = 'confab:'): RateLimiter {
  // One limiter per limit and window (a handful, from the configuration); they share Redis keys (`confab:rl:<key>`).
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (points: number, duration: number) => {
    const id = `${points}/${duration}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      const opts = { points, duration, keyPrefix: `${keyPrefix}rl` };
      limiter = redis ? new RateLimiterRedis({ ...opts, storeClient: redis }) : new RateLimiterMemory(opts);
      limiters.set(id, limiter);
    }
    return limiter;
  };
  const result = (res: RateLimiterRes, allowed: boolean): HitResult => ({
    allowed,
    count: res.consumedPoints,
    retryAfterSec: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
  });
  return {
    async hit(key, limit, windowSec) {
      try {
        return result(await limiterFor(limit, windowSec).consume(key), true);
      } catch (err) {
        // Refused with the counter's state; anything else is the store failing.
        if (err instanceof RateLimiterRes) return result(err, false);
        throw err;
      }
    },
    async refund(key, limit, windowSec) {
      await limiterFor(limit, windowSec).reward(key);
    },
    async reset(key, limit, windowSec) {
      await limiterFor(limit, windowSec).delete(key);
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
