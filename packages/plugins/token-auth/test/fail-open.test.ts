import { describe, expect, it } from 'vitest';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { FailOpenLimiter, REDIS_RETRY_AFTER_MS, type PointLimiter } from '../src/limits.ts';

/** A shared limiter that answers as scripted: 'ok', 'over' (limit reached) or 'error' (Redis timeout). */
function scripted(outcomes: Array<'ok' | 'over' | 'error'>): PointLimiter & { calls: number } {
  const limiter = {
    calls: 0,
    async consume() {
      const outcome = outcomes[limiter.calls++] ?? 'ok';
      if (outcome === 'error') throw new Error('Command timed out');
      if (outcome === 'over') throw new RateLimiterRes(0, 1000, 10, false);
      return new RateLimiterRes(5, 1000, 1, true);
    },
  };
  return limiter;
}

describe('FailOpenLimiter (a hung or unreachable Redis)', () => {
  it.each([
    { name: 'Redis answers', outcomes: ['ok'] as const, served: 'shared', failOpens: 0 },
    { name: 'Redis errors or times out', outcomes: ['error'] as const, served: 'local', failOpens: 1 },
  ])('$name → decided by the $served limiter, $failOpens fail-open(s) counted', async ({ outcomes, served, failOpens }) => {
    const shared = scripted([...outcomes]);
    let used = 0;
    const limiter = new FailOpenLimiter(shared, new RateLimiterMemory({ points: 3, duration: 60 }), () => used++);
    const res = await limiter.consume('k');
    expect(res.remainingPoints).toBe(served === 'shared' ? 5 : 2);
    expect(used).toBe(failOpens);
  });

  it('passes a refusal (limit reached) through, without failing open', async () => {
    let used = 0;
    const limiter = new FailOpenLimiter(scripted(['over']), new RateLimiterMemory({ points: 3, duration: 60 }), () => used++);
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
    expect(used).toBe(0);
  });

  it('after a failure, leaves Redis alone for the retry interval (one timeout per interval, not per request), then asks again', async () => {
    let now = 1_000_000;
    const shared = scripted(['error', 'ok']);
    let used = 0;
    const limiter = new FailOpenLimiter(shared, new RateLimiterMemory({ points: 100, duration: 60 }), () => used++, () => now);
    await limiter.consume('k');
    for (let i = 0; i < 10; i++) await limiter.consume('k');
    expect(shared.calls).toBe(1);
    expect(used).toBe(11);
    now += REDIS_RETRY_AFTER_MS;
    await limiter.consume('k');
    expect(shared.calls).toBe(2);
    expect(used).toBe(11);
  });

  it('keeps enforcing the limit in process while failing open', async () => {
    const limiter = new FailOpenLimiter(scripted(['error']), new RateLimiterMemory({ points: 2, duration: 60 }), () => undefined);
    await limiter.consume('k');
    await limiter.consume('k');
    await expect(limiter.consume('k')).rejects.toBeInstanceOf(RateLimiterRes);
  });
});
