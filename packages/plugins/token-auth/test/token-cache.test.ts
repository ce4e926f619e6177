import { describe, expect, it } from 'vitest';
import { TokenCache, type TokenRecord } from '../src/token-cache.ts';

const record = (n: number, connectionId = 'c1'): TokenRecord => ({
  tokenId: `t${n}`,
  connectionId,
  hash: `${n}`.padStart(64, '0'),
  expiresAt: null,
  revokedAt: null,
  connection: { scimEnabled: true, rateLimitPerSecond: null },
});

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TokenCache', () => {
  it('serves an entry for at most the TTL', () => {
    const c = clock();
    const cache = new TokenCache(5_000, c.now);
    cache.set(record(1), c.now());
    c.advance(4_999);
    expect(cache.get(record(1).hash)?.tokenId).toBe('t1');
    c.advance(1);
    expect(cache.get(record(1).hash)).toBeUndefined();
  });

  it('caches nothing with a TTL of 0', () => {
    const c = clock();
    const cache = new TokenCache(0, c.now);
    cache.set(record(1), c.now());
    expect(cache.get(record(1).hash)).toBeUndefined();
  });

  it.each([
    ['by token', { tokenIds: ['t1'] }, [false, true, true]],
    ['by connection', { connectionIds: ['c1'] }, [false, false, true]],
    ['by both', { tokenIds: ['t3'], connectionIds: ['c1'] }, [false, false, false]],
    ['unrelated', { tokenIds: ['t9'], connectionIds: ['c9'] }, [true, true, true]],
  ])('invalidates %s', (_name, invalidation, kept) => {
    const c = clock();
    const cache = new TokenCache(5_000, c.now);
    const records = [record(1), record(2), record(3, 'c2')];
    for (const r of records) cache.set(r, c.now());
    cache.invalidate(invalidation);
    expect(records.map((r) => cache.get(r.hash) !== undefined)).toEqual(kept);
  });

  it('does not re-cache a lookup that an invalidation may have overtaken, for one TTL', () => {
    const c = clock();
    const cache = new TokenCache(5_000, c.now);
    const startedAt = c.now();
    c.advance(10);
    cache.invalidate({ connectionIds: ['c1'] }); // arrives while the lookup (maybe of pre-commit state) runs
    c.advance(10);
    cache.set(record(1), startedAt);
    expect(cache.get(record(1).hash)).toBeUndefined();
    // A lookup starting well after the quarantine is cached again.
    c.advance(5_000);
    cache.set(record(1), c.now());
    expect(cache.get(record(1).hash)).toBeDefined();
  });

  it('stays bounded, evicting the oldest entry', () => {
    const c = clock();
    const cache = new TokenCache(5_000, c.now, 3);
    for (let i = 1; i <= 4; i++) cache.set(record(i), c.now());
    expect(cache.size).toBe(3);
    expect(cache.get(record(1).hash)).toBeUndefined();
    expect(cache.get(record(4).hash)).toBeDefined();
  });
});
