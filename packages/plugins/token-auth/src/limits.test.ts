import { describe, expect, it } from 'vitest';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { failureDelayMs, rateLimitHeaders, toRateDecision } from './limits.ts';
import { parseInvalidation } from './invalidation.ts';
import { tokenAuthConfigSchema } from './config.ts';

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
