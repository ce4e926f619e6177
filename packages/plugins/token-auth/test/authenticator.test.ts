import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { hashSecret, ServiceUnavailableError, type ScimAuthState } from '@doorman/core';
import { scimAuthenticator } from '../src/authenticator.ts';
import { LastUsedBuffer } from '../src/last-used.ts';
import { AuthFailureLimiter, TenantRateLimiter } from '../src/limits.ts';
import { TokenCache, type TokenRecord } from '../src/token-cache.ts';
import type { Context } from '../src/types.ts';

const TOKEN = `dmn_scim_0123456789ab_${'A'.repeat(43)}`;

function recordFor(token: string): TokenRecord {
  const hash = hashSecret(token);
  return {
    tokenId: 'tok-1',
    connectionId: 'conn-1',
    hash,
    expiresAt: null,
    revokedAt: null,
    connection: { scimEnabled: true, rateLimitPerSecond: 1_000 },
  };
}

/** The authenticator with in-memory limiters and a lookup that counts its calls and can be held or failed. */
function setup() {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const calls: string[] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  let fail = false;
  let revokedAt: number | null = null;
  let hashes = 0;
  const onFailOpen = () => undefined;
  const cache = new TokenCache(5_000, clock.now);
  const authenticate = scimAuthenticator({
    db: {} as DataSource,
    lookup: async (_db, hash) => {
      calls.push(hash);
      await gate;
      if (fail) throw new Error('database unreachable');
      return hash === recordFor(TOKEN).hash ? { ...recordFor(TOKEN), revokedAt } : null;
    },
    hashToken: (token) => {
      hashes++;
      return hashSecret(token);
    },
    cache,
    lastUsed: new LastUsedBuffer(),
    tenantLimiter: new TenantRateLimiter({ redis: null, onFailOpen }, 10),
    failureLimiter: new AuthFailureLimiter({ redis: null, onFailOpen }, 1_000),
    defaultRatePerSecond: 100,
    now: clock.now,
  });
  const request = async (token = TOKEN, socket?: object) => {
    const ctx = {
      get: (h: string) => (h === 'authorization' ? `Bearer ${token}` : ''),
      set: () => undefined,
      state: {} as Record<string, unknown>,
      ip: '10.0.0.1',
      req: socket ? { socket } : undefined,
    };
    let admitted = false;
    await authenticate(ctx as unknown as Context, async () => {
      admitted = true;
    });
    return { admitted, auth: ctx.state.auth as ScimAuthState | undefined };
  };
  return {
    clock,
    calls,
    request,
    hold() {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
    failLookups: (value: boolean) => (fail = value),
    /** Revokes the token in the "database" and drops it from the cache, as the Redis invalidation does. */
    revoke() {
      revokedAt = clock.now() - 1;
      cache.invalidate({ tokenIds: ['tok-1'] });
      clock.advance(5_000); // past the re-cache guard after an invalidation
    },
    hashes: () => hashes,
  };
}

describe('scimAuthenticator lookups', () => {
  it('shares one database lookup among concurrent requests with the same token, also after the cache expires', async () => {
    const t = setup();
    t.hold();
    const first = Array.from({ length: 20 }, () => t.request());
    t.release();
    const results = await Promise.all(first);
    expect(results.every((r) => r.admitted && r.auth?.connectionId === 'conn-1' && r.auth.tokenId === 'tok-1')).toBe(true);
    expect(t.calls).toHaveLength(1);

    await t.request(); // a cache hit: no lookup
    expect(t.calls).toHaveLength(1);

    t.clock.advance(5_000); // the entry expires
    t.hold();
    const again = Array.from({ length: 20 }, () => t.request());
    t.release();
    expect((await Promise.all(again)).every((r) => r.admitted)).toBe(true);
    expect(t.calls).toHaveLength(2);
  });

  it('answers 503 to every request waiting on a failed lookup, and tries again on the next request', async () => {
    const t = setup();
    t.failLookups(true);
    t.hold();
    const waiting = Array.from({ length: 5 }, () => t.request().then(() => 'admitted', (err: unknown) => err));
    t.release();
    const outcomes = await Promise.all(waiting);
    expect(outcomes.every((o) => o instanceof ServiceUnavailableError)).toBe(true);
    expect(t.calls).toHaveLength(1);

    t.failLookups(false);
    expect((await t.request()).admitted).toBe(true);
    expect(t.calls).toHaveLength(2);
  });

  it('refuses an unknown token with 401 after its own lookup, without caching it', async () => {
    const t = setup();
    const unknown = `dmn_scim_0123456789ab_${'B'.repeat(43)}`;
    await expect(t.request(unknown)).rejects.toMatchObject({ status: 401 });
    await expect(t.request(unknown)).rejects.toMatchObject({ status: 401 });
    expect(t.calls).toHaveLength(2);
  });

  it("hashes a keep-alive connection's header once, yet checks every request (a revoked token is refused on that connection)", async () => {
    const t = setup();
    const socket = {};
    for (let i = 0; i < 3; i++) expect((await t.request(TOKEN, socket)).admitted).toBe(true);
    expect(t.hashes()).toBe(1);

    // Another credential on the same connection is parsed and hashed; the verified one stays known.
    const unknown = `dmn_scim_0123456789ab_${'C'.repeat(43)}`;
    await expect(t.request(unknown, socket)).rejects.toMatchObject({ status: 401 });
    expect(t.hashes()).toBe(2);
    expect((await t.request(TOKEN, socket)).admitted).toBe(true);
    expect(t.hashes()).toBe(2);

    t.revoke();
    await expect(t.request(TOKEN, socket)).rejects.toMatchObject({ status: 401 });
    // A fresh connection hashes its own header.
    await expect(t.request(TOKEN, {})).rejects.toMatchObject({ status: 401 });
    expect(t.hashes()).toBe(3);
  });
});
