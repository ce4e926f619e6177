import type { Redis } from 'ioredis';
import type { Logger } from './types.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { MetricsRegistry } from '@doorman/plugin-api';

type Registry = MetricsRegistry;
export type LimiterName = 'tenant' | 'auth_failures';

/**
 * `doorman_rate_limiter_fail_open_total{limiter}`: requests decided without Redis.
 * A hand-rolled prom-client metric (the registry only calls `get`/`reset`), because prom-client is
 * not a dependency of this package; it renders like a prom-client Counter.
 */
export function createFailOpenCounter(registry: Registry) {
  const name = 'doorman_rate_limiter_fail_open_total';
  const help = 'Rate limiter decisions made without Redis (fail open to the in-process limiter)';
  const counts = new Map<LimiterName, number>();
  const metric = {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    get: async () => ({
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      values: [...counts].map(([limiter, value]) => ({ value, labels: { limiter } })),
    }),
    reset: () => counts.clear(),
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  return {
    inc(limiter: LimiterName) {
      counts.set(limiter, (counts.get(limiter) ?? 0) + 1);
    },
  };
}

/** Warns at most once per interval, counting what it swallowed: Redis outages must not flood the log. */
export function throttledWarning(logger: Logger, intervalMs = 60_000) {
  let last = 0;
  let suppressed = 0;
  return (fields: Record<string, unknown>, message: string) => {
    const now = Date.now();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    logger.warn({ ...fields, suppressed }, message);
    last = now;
    suppressed = 0;
  };
}

export interface LimiterDeps {
  redis: Redis | null;
  onFailOpen: (limiter: LimiterName) => void;
}

/** What the limiters below need of rate-limiter-flexible: consume, resolving or rejecting with a RateLimiterRes. */
export interface PointLimiter {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
}

/** After a Redis error or timeout, decisions stay in process for this long before Redis is tried again. */
export const REDIS_RETRY_AFTER_MS = 2_000;

/**
 * The shared Redis limiter, failing OPEN to an in-process limiter with the same settings when Redis
 * errors, is unreachable, or does not answer within the client's `commandTimeout` (a hung Redis):
 * the request is served under the per-replica limit, `onUse` counts it, and for the next 2 s Redis is
 * not asked at all, so a hung Redis costs one command timeout per limiter every 2 s, not one per
 * request (docs/job-durability.md, root README "Failure behaviour").
 */
export class FailOpenLimiter implements PointLimiter {
  private skipRedisUntil = 0;

  constructor(
    private readonly shared: PointLimiter,
    private readonly local: PointLimiter,
    private readonly onUse: () => void,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async consume(key: string, points = 1): Promise<RateLimiterRes> {
    if (this.nowMs() < this.skipRedisUntil) return this.fallback(key, points);
    try {
      return await this.shared.consume(key, points);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw err;
      this.skipRedisUntil = this.nowMs() + REDIS_RETRY_AFTER_MS;
      return this.fallback(key, points);
    }
  }

  private fallback(key: string, points: number): Promise<RateLimiterRes> {
    this.onUse();
    return this.local.consume(key, points);
  }
}

function createLimiter(deps: LimiterDeps, limiter: LimiterName, opts: { points: number; duration: number; keyPrefix: string }): PointLimiter {
  if (!deps.redis) return new RateLimiterMemory(opts);
  // Do not wait on a reconnecting client: fail at once and go to the in-process limiter.
  const shared = new RateLimiterRedis({ ...opts, storeClient: deps.redis, rejectIfRedisNotReady: true });
  return new FailOpenLimiter(shared, new RateLimiterMemory(opts), () => deps.onFailOpen(limiter));
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch seconds when the window resets. */
  resetAt: number;
  retryAfterSeconds: number;
}

const retryAfter = (msBeforeNext: number) => Math.max(1, Math.ceil(msBeforeNext / 1000));

export function toRateDecision(res: RateLimiterRes, limit: number, allowed: boolean, nowMs: number): RateDecision {
  return {
    allowed,
    limit,
    remaining: allowed ? Math.max(0, res.remainingPoints) : 0,
    resetAt: Math.ceil((nowMs + res.msBeforeNext) / 1000),
    retryAfterSeconds: retryAfter(res.msBeforeNext),
  };
}

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(d.limit),
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': String(d.resetAt),
    ...(d.allowed ? {} : { 'Retry-After': String(d.retryAfterSeconds) }),
  };
}

/**
 * How many points one Redis call takes at a time for a window of `limit` points: 1% of the window,
 * 1 to 1,000. Small limits stay exact; large ones cost one Redis round trip per lease, not per request
 * (a rate-limiter-flexible call costs a busy gateway ~0.3 ms of CPU: at thousands of requests a second,
 * leases of 25 still spent 4% of it there).
 */
export function leaseSize(limit: number): number {
  return Math.max(1, Math.min(1_000, Math.floor(limit / 100)));
}

/** Points this replica took from the shared window and has not spent yet. */
interface Lease {
  /** Points taken from the window by the refill that made this lease. */
  size: number;
  points: number;
  /** The shared window's remaining points when the lease was taken. */
  remaining: number;
  resetAt: number;
  /** A lease is spent within a second or dropped (unspent points simply count as used). */
  expiresAtMs: number;
}

/**
 * Per-connection limit shared by all replicas: a fixed window of `burstSeconds` holding
 * `perSecond × burstSeconds` points, i.e. the sustained rate averaged over the window, spendable in
 * one burst (an IdP's initial sync or a push of a large group arrives as a burst, then idles).
 * One Redis round trip (an atomic INCR+TTL script) per lease of `leaseSize(limit)` points: a replica
 * spends a lease locally within a second, so the shared limit holds to within that many requests per
 * replica, and exactly once fewer than four leases remain in the window.
 */
export class TenantRateLimiter {
  private readonly limiters = new Map<number, PointLimiter>();
  private readonly leases = new Map<string, Lease>();
  private readonly refills = new Map<string, Promise<RateDecision>>();

  constructor(
    private readonly deps: LimiterDeps,
    private readonly burstSeconds: number,
    private readonly keyPrefix = 'doorman:ratelimit',
  ) {}

  /** Points per window for a per-second rate. */
  windowLimit(perSecond: number): number {
    return perSecond * this.burstSeconds;
  }

  /** A point from this replica's lease, without waiting: null when the lease is spent (then `consume`). */
  consumeLocal(connectionId: string, perSecond: number, nowMs: number): RateDecision | null {
    const lease = this.leases.get(connectionId);
    if (!lease || lease.points <= 0 || nowMs >= lease.expiresAtMs) return null;
    lease.points--;
    lease.remaining = Math.max(0, lease.remaining - 1);
    // The next lease is taken in the background once a quarter of this one (or of its second) is
    // left, so requests do not queue behind the Redis round trip. Not in exact mode (leases of 1).
    if (lease.size > 1 && !this.refills.has(connectionId) && (lease.points <= lease.size / 4 || nowMs >= lease.expiresAtMs - 250)) {
      const ahead = this.refill(connectionId, this.windowLimit(perSecond), nowMs, true);
      this.refills.set(connectionId, ahead);
      void ahead.finally(() => {
        if (this.refills.get(connectionId) === ahead) this.refills.delete(connectionId);
      });
    }
    return { allowed: true, limit: this.windowLimit(perSecond), remaining: lease.remaining, resetAt: lease.resetAt, retryAfterSeconds: 0 };
  }

  async consume(connectionId: string, perSecond: number, nowMs: number): Promise<RateDecision> {
    const limit = this.windowLimit(perSecond);
    for (;;) {
      const local = this.consumeLocal(connectionId, perSecond, nowMs);
      if (local) return local;
      // One refill at a time per connection: concurrent requests that find the lease spent wait for
      // it and share the new lease, instead of each taking a lease from Redis (which burned the
      // window 30× faster than requests arrived at 32 concurrent requests).
      const pending = this.refills.get(connectionId);
      if (!pending) break;
      const outcome = await pending;
      if (!outcome.allowed) return outcome;
    }
    const refill = this.refill(connectionId, limit, nowMs);
    this.refills.set(connectionId, refill);
    try {
      return await refill;
    } finally {
      if (this.refills.get(connectionId) === refill) this.refills.delete(connectionId);
    }
  }

  /**
   * Takes a new lease from the shared window; never rejects. The caller spends its first point, or,
   * taken `ahead` of need, the points left in the current lease carry over (they were granted too).
   */
  private async refill(connectionId: string, limit: number, nowMs: number, ahead = false): Promise<RateDecision> {
    const lease = this.leases.get(connectionId);
    let limiter = this.limiters.get(limit);
    if (!limiter) {
      // One limiter per distinct limit; all share the key space, so a changed limit keeps the count.
      limiter = createLimiter(this.deps, 'tenant', { points: limit, duration: this.burstSeconds, keyPrefix: this.keyPrefix });
      this.limiters.set(limit, limiter);
    }
    try {
      // Lease several points in one round trip, unless the window is nearly spent (then exact).
      const lastRemaining = lease?.remaining ?? limit;
      const take = lastRemaining > 4 * leaseSize(limit) ? leaseSize(limit) : 1;
      const res = await limiter.consume(connectionId, take);
      const decision = toRateDecision(res, limit, true, nowMs);
      const current = this.leases.get(connectionId);
      const carried = ahead && current && nowMs < current.expiresAtMs ? current.points : 0;
      this.leases.set(connectionId, {
        size: take,
        points: carried + (ahead ? take : take - 1),
        remaining: decision.remaining,
        resetAt: decision.resetAt,
        expiresAtMs: Math.min(nowMs + 1_000, decision.resetAt * 1000),
      });
      return decision;
    } catch (err) {
      // Ahead of need, a refused refill leaves the current lease's granted points to be spent.
      if (!ahead) this.leases.delete(connectionId);
      if (err instanceof RateLimiterRes) return toRateDecision(err, limit, false, nowMs);
      // Even the insurance failed (should not happen): serve the request.
      this.deps.onFailOpen('tenant');
      return { allowed: true, limit, remaining: limit, resetAt: Math.ceil(nowMs / 1000) + this.burstSeconds, retryAfterSeconds: 0 };
    }
  }
}

/**
 * Milliseconds to hold a failed authentication before answering 401: nothing for the first half of
 * the per-minute budget, then 100 ms more per failure, at most 1 s. Slows guessing without holding
 * many sockets open for long.
 */
export function failureDelayMs(failures: number, budget: number): number {
  const free = Math.floor(budget / 2);
  if (failures <= free) return 0;
  return Math.min(1_000, (failures - free) * 100);
}

export interface FailureVerdict {
  refused: boolean;
  retryAfterSeconds: number;
  delayMs: number;
}

/**
 * Counts failed authentications per client address (one-minute window). Only consulted when the
 * presented credential is invalid, so a tenant whose valid token shares an address with a failing
 * client (e.g. IdP egress IPs shared between tenants) is never refused.
 */
export class AuthFailureLimiter {
  private readonly limiter: PointLimiter;

  constructor(
    deps: LimiterDeps,
    private readonly perMinute: number,
    keyPrefix = 'doorman:authfail',
  ) {
    this.limiter = createLimiter(deps, 'auth_failures', { points: perMinute, duration: 60, keyPrefix });
  }

  async recordFailure(address: string): Promise<FailureVerdict> {
    try {
      const res = await this.limiter.consume(address);
      return { refused: false, retryAfterSeconds: 0, delayMs: failureDelayMs(res.consumedPoints, this.perMinute) };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { refused: true, retryAfterSeconds: retryAfter(err.msBeforeNext), delayMs: 0 };
      return { refused: false, retryAfterSeconds: 0, delayMs: 0 };
    }
  }
}
