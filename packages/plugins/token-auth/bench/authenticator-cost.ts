/**
 * Benchmark support, not production code (`@doorman/plugin-token-auth/bench`; kept out of src/): the SCIM authenticator's own cost per
 * request, in isolation — the real middleware on a cache hit (keep-alive sockets, an in-memory rate
 * limit lease) against a stub that only attaches the same state, in one process, alternating. It
 * leaves out what a loaded gateway adds around the code (cache pressure, GC), which the SCIM bench's
 * A/B of two gateways measures; the two figures bracket the overhead.
 */
import type { DataSource } from 'typeorm';
import { hashSecret } from '@doorman/core';
import { type ScimAuthState } from '@doorman/plugin-api';
import { scimAuthenticator } from '../src/authenticator.ts';
import { LastUsedBuffer } from '../src/last-used.ts';
import { AuthFailureLimiter, TenantRateLimiter } from '../src/limits.ts';
import { TokenCache } from '../src/token-cache.ts';
import type { Context } from '../src/types.ts';

/**
 * What the benchmark's stubbed gateway runs instead of the authenticator (bench/gateway-noauth.ts):
 * every request admitted as one connection, with the state the real one attaches.
 */
export function stubScimAuthenticator(connectionId: string, tokenId: string) {
  return async (ctx: Context, next: () => Promise<void>) => {
    ctx.state.auth = { kind: 'scim', connectionId, tokenId } satisfies ScimAuthState;
    ctx.state.actor = { type: 'scim_token', id: tokenId, requestId: ctx.state.requestId ?? null };
    await next();
  };
}

export interface AuthenticatorCost {
  /** Median over rounds, microseconds per request. */
  authenticatorMicros: number;
  stubMicros: number;
  /** What authentication adds per request: authenticator minus stub. */
  addedMicros: number;
}

export async function measureAuthenticatorCost(options: { requestsPerRound?: number; rounds?: number; sockets?: number } = {}): Promise<AuthenticatorCost> {
  const { requestsPerRound = 200_000, rounds = 7, sockets: socketCount = 32 } = options;
  const token = `dmn_scim_0123456789ab_${'A'.repeat(43)}`;
  const record = { tokenId: 'tok-bench', connectionId: 'conn-bench', hash: hashSecret(token), expiresAt: null, revokedAt: null, connection: { scimEnabled: true, rateLimitPerSecond: 1_000_000 } };
  const onFailOpen = () => undefined;
  const authenticate = scimAuthenticator({
    db: {} as DataSource,
    lookup: async () => record,
    cache: new TokenCache(3_600_000, Date.now),
    lastUsed: new LastUsedBuffer(),
    tenantLimiter: new TenantRateLimiter({ redis: null, onFailOpen }, 10),
    failureLimiter: new AuthFailureLimiter({ redis: null, onFailOpen }, 1_000),
    defaultRatePerSecond: 1_000_000,
    now: Date.now,
  });
  const stub = stubScimAuthenticator(record.connectionId, record.tokenId);
  const sockets = Array.from({ length: socketCount }, () => ({}));
  const header = `Bearer ${token}`;
  const next = async () => undefined;
  const perRequest = async (middleware: (ctx: Context, next: () => Promise<void>) => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < requestsPerRound; i++) {
      const ctx = { get: (name: string) => (name === 'authorization' ? header : ''), set: () => undefined, state: {}, ip: '127.0.0.1', req: { socket: sockets[i % socketCount] } };
      await middleware(ctx as unknown as Context, next);
    }
    return Number(process.hrtime.bigint() - started) / requestsPerRound / 1_000;
  };
  const a: number[] = [];
  const b: number[] = [];
  await perRequest(authenticate); // warm-up: the first request takes the lease, JIT settles
  await perRequest(stub);
  for (let r = 0; r < rounds; r++) {
    a.push(await perRequest(authenticate));
    b.push(await perRequest(stub));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const authenticatorMicros = median(a);
  const stubMicros = median(b);
  return { authenticatorMicros, stubMicros, addedMicros: authenticatorMicros - stubMicros };
}
