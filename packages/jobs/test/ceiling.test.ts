import { describe, expect, it } from 'vitest';
import { measureBullmqThroughput } from '../bench/ceiling.ts';
import { TEST_REDIS_URL, uniquePrefix } from './helpers.ts';

// The benchmarks' ceiling, on the real Redis: every job runs once, and `work` sees every index.
describe('measureBullmqThroughput', () => {
  it('completes every job and reports a rate', async () => {
    const result = await measureBullmqThroughput({ redisUrl: TEST_REDIS_URL, prefix: uniquePrefix(), jobs: 25, concurrency: 5 });
    expect(result.jobs).toBe(25);
    expect(result.jobsPerSecond).toBeCloseTo(25 / result.seconds);
  });

  it('runs work once per job with its index', async () => {
    const seen: number[] = [];
    await measureBullmqThroughput({
      redisUrl: TEST_REDIS_URL,
      prefix: uniquePrefix(),
      jobs: 1_200, // more than one addBulk batch of 1,000
      concurrency: 20,
      work: async (i) => {
        seen.push(i);
      },
    });
    expect(seen.length).toBe(1_200);
    expect(new Set(seen).size).toBe(1_200);
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(1_199);
  });

  it("fails, instead of waiting forever, when a job's work fails", async () => {
    const run = measureBullmqThroughput({
      redisUrl: TEST_REDIS_URL,
      prefix: uniquePrefix(),
      jobs: 50,
      concurrency: 5,
      work: async (i) => {
        if (i === 7) throw new Error('the row is gone');
      },
    });
    await expect(run).rejects.toThrow(/ceiling job .* failed: the row is gone/);
  });
});
