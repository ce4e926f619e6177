import { describe, expect, it } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { failureDelayMs, leaseSize, rateLimitHeaders, TenantRateLimiter, toRateDecision } from '../src/limits.ts';
import { parseInvalidation } from '../src/invalidation.ts';
import { tokenAuthConfigSchema } from '../src/config.ts';

describe('failureDelayMs', () => {
  it.each([
    [1, 10, 0],
    [5, 10, 0],
    [6, 10, 100],
    [10, 10, 500],
    [40, 100, 0],
    [60, 100, 1_000],
    [1, 1, 100],
  ])('%i failures of a budget of %i → %i ms', (failures, budget, expected) => {
    expect(failureDelayMs(failures, budget)).toBe(expected);
  });
});

describe('rate-limit decisions and headers', () => {
  const now = 1_700_000_000_000;
  it.each([
    ['allowed', new RateLimiterRes(7, 2_500, 3), true, { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '7', 'X-RateLimit-Reset': '1700000003' }],
    ['refused', new RateLimiterRes(0, 2_500, 11), false, { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1700000003', 'Retry-After': '3' }],
    ['refused, window ending now', new RateLimiterRes(0, 0, 11), false, { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '1700000000', 'Retry-After': '1' }],
  ])('%s', (_name, res, allowed, headers) => {
    expect(rateLimitHeaders(toRateDecision(res, 10, allowed, now))).toEqual(headers);
  });
});

describe('parseInvalidation', () => {
  it.each([
    ['{"tokenIds":["a"]}', { tokenIds: ['a'] }],
    ['{"connectionIds":["c"],"tokenIds":[]}', { connectionIds: ['c'], tokenIds: [] }],
    ['{"tokenIds":[1]}', undefined],
    ['{}', undefined],
    ['null', undefined],
    ['not json', undefined],
  ])('%s', (message, expected) => {
    expect(parseInvalidation(message)).toEqual(expected);
  });
});

describe('configuration', () => {
  it('has documented defaults', () => {
    expect(tokenAuthConfigSchema.parse({})).toEqual({ cacheTtlMs: 5_000, lastUsedFlushMs: 30_000, rateLimitPerSecond: 100, burstSeconds: 10, authFailuresPerMinute: 10 });
  });
  it('coerces environment strings', () => {
    expect(tokenAuthConfigSchema.parse({ cacheTtlMs: '0', rateLimitPerSecond: '25' })).toMatchObject({ cacheTtlMs: 0, rateLimitPerSecond: 25 });
  });
  it.each([
    [{ cacheTtlMs: '-1' }, 'cacheTtlMs'],
    [{ cacheTtlMs: '600000' }, 'cacheTtlMs'],
    [{ lastUsedFlushMs: '10' }, 'lastUsedFlushMs'],
    [{ rateLimitPerSecond: '0' }, 'rateLimitPerSecond'],
    [{ burstSeconds: 'ten' }, 'burstSeconds'],
    [{ authFailuresPerMinute: '1.5' }, 'authFailuresPerMinute'],
    [{ cacheTtl: '5' }, ''],
  ])('rejects %o', (input, path) => {
    const result = tokenAuthConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toBe(path);
  });
});

describe('leaseSize', () => {
  it.each([
    [10, 1],
    [199, 1],
    [1_000, 10],
    [2_500, 25],
    [50_000, 500],
    [1_000_000, 1_000],
  ])('a window of %i points leases %i at a time', (limit, expected) => {
    expect(leaseSize(limit)).toBe(expected);
  });
});

/** A limiter (leases over a 10 s window) on the real Redis under a private key prefix, removed after. */
async function withLimiterOnRedis(work: (t: { redis: Redis; limiter: TenantRateLimiter; keyPrefix: string; failedOpen: () => number }) => Promise<void>) {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keyPrefix = `doorman-test-rl-${randomUUID()}`;
  await redis.ping();
  let failedOpen = 0;
  try {
    await work({ redis, limiter: new TenantRateLimiter({ redis, onFailOpen: () => failedOpen++ }, 10, keyPrefix), keyPrefix, failedOpen: () => failedOpen });
  } finally {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

describe('TenantRateLimiter on the real Redis', () => {
  it('takes one Redis round trip per lease, stays exact near the limit, and never admits more than the window', () =>
    withLimiterOnRedis(async ({ redis, limiter, keyPrefix, failedOpen }) => {
      const now = Date.now();
      let calls = 0;
      const send = redis.sendCommand.bind(redis);
      redis.sendCommand = ((command: Parameters<typeof send>[0]) => {
        calls++;
        return send(command);
      }) as typeof redis.sendCommand;
      // 100/s × 10 s = 1,000 points, leased 10 at a time.
      const decisions = [];
      for (let i = 0; i < 1_050; i++) decisions.push(await limiter.consume('conn-a', 100, now));
      const allowed = decisions.filter((d) => d.allowed).length;
      expect(allowed).toBeGreaterThan(950);
      expect(allowed).toBeLessThanOrEqual(1_000);
      expect(decisions.at(-1)).toMatchObject({ allowed: false, remaining: 0 });
      // What Redis counted is what this replica took: at most the window, plus refused attempts.
      const [key] = await redis.keys(`${keyPrefix}*conn-a*`);
      const counted = Number(await redis.get(key!));
      expect(counted).toBeGreaterThanOrEqual(allowed);
      expect(failedOpen()).toBe(0);
      // ~96 leases of 10, the last 40 points one by one, then the 50 refusals: far fewer than 1,050.
      expect(calls).toBeLessThan(250);
      // Another tenant has its own window.
      expect((await limiter.consume('conn-b', 100, now)).allowed).toBe(true);

      // Concurrent requests that find the lease spent share one refill: 60 at once take ~60 points
      // of the window (six leases of 10), not a lease each (600).
      const burst = await Promise.all(Array.from({ length: 60 }, () => limiter.consume('conn-c', 100, now)));
      expect(burst.every((d) => d.allowed)).toBe(true);
      const [burstKey] = await redis.keys(`${keyPrefix}*conn-c*`);
      // Six leases of 10, plus at most one taken ahead of need.
      expect(Number(await redis.get(burstKey!))).toBeLessThanOrEqual(80);
    }));

  it('takes the next lease before the current one is spent, so requests need not wait on Redis', () =>
    withLimiterOnRedis(async ({ redis, limiter, keyPrefix, failedOpen }) => {
      const now = Date.now();
      // 1,000/s over 10 s: leases of 100. The first request waits for the first lease.
      expect((await limiter.consume('conn-d', 1_000, now)).allowed).toBe(true);
      let local = 0;
      while (local < 80 && limiter.consumeLocal('conn-d', 1_000, now)) local++;
      expect(local).toBe(80); // 19 points left: the next lease was requested when 25 were
      await new Promise((resolve) => setTimeout(resolve, 100));
      let more = 0;
      while (limiter.consumeLocal('conn-d', 1_000, now)) more++;
      expect(more).toBe(19 + 100); // the 19 left carried over into the lease taken ahead
      const [key] = await redis.keys(`${keyPrefix}*conn-d*`);
      // Taken from the window: the first lease, the one ahead, and the next one ahead (still in flight or done).
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(Number(await redis.get(key!))).toBe(300);
      expect(failedOpen()).toBe(0);
    }));
});
