import type { Context, Logger, Middleware } from './types.ts';
import type { DataSource } from 'typeorm';
import { bearerToken, digestsEqual, hashSecret, timingSafeStringEqual } from '@doorman/core';
import { AuthenticationError, defineError, ScimDisabled, type ScimAuthState } from '@doorman/plugin-api';
import { ScimTokenEntity, SsoConnectionEntity } from '@doorman/model';
import type { LastUsedBuffer } from './last-used.ts';
import { rateLimitHeaders, type AuthFailureLimiter, type TenantRateLimiter } from './limits.ts';
import type { TokenCache, TokenRecord } from './token-cache.ts';

/** 429: too many failed authentications from this address. */
const FailuresLimited = defineError('DMN_AUTH_FAILURES_LIMITED', 429);
/** 429: the connection's requests per second are spent. */
const ConnectionRateLimited = defineError('DMN_SCIM_RATE_LIMITED', 429);
/** 503: the token store could not be read. */
const AuthUnavailable = defineError('DMN_AUTH_UNAVAILABLE', 503, 'authentication is temporarily unavailable', { headers: { 'Retry-After': '5' } });

/** The shape `issueSecret('scim', id)` produces: checked before any lookup. */
export const SCIM_TOKEN_FORMAT = /^dmn_scim_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/;

const REALM = 'Bearer realm="doorman-scim"';

/** 401 with the RFC 6750 challenge; `invalid_token` when a credential was presented. */
export function scimUnauthenticated(message: string, presented: boolean): AuthenticationError {
  return new AuthenticationError(message, {
    headers: { 'WWW-Authenticate': presented ? `${REALM}, error="invalid_token"` : REALM },
  });
}

export interface AuthenticatorDeps {
  db: DataSource;
  /** Reads a token by hash (default `lookupToken`; tests count calls). */
  lookup?: (db: DataSource, hash: string) => Promise<TokenRecord | null>;
  /** SHA-256 of a presented token (default `hashSecret`; tests count calls). */
  hashToken?: (token: string) => string;
  cache: TokenCache;
  lastUsed: LastUsedBuffer;
  tenantLimiter: TenantRateLimiter;
  failureLimiter: AuthFailureLimiter;
  defaultRatePerSecond: number;
  now: () => number;
}

/** Reads a token's row and its connection's flags; null for an unknown token. */
export async function lookupToken(db: DataSource, hash: string): Promise<TokenRecord | null> {
  const row = await db.getRepository(ScimTokenEntity).findOne({
    where: { hash },
    select: { id: true, connectionId: true, hash: true, expiresAt: true, revokedAt: true },
  });
  if (!row || !digestsEqual(row.hash, hash)) return null;
  const connection = await db.getRepository(SsoConnectionEntity).findOne({
    where: { id: row.connectionId },
    select: { id: true, scimEnabled: true, rateLimitPerSecond: true },
  });
  return {
    tokenId: row.id,
    connectionId: row.connectionId,
    hash: row.hash,
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
    connection: connection ? { scimEnabled: Boolean(connection.scimEnabled), rateLimitPerSecond: connection.rateLimitPerSecond ?? null } : null,
  };
}

/**
 * The SCIM authenticator. Cache hit: one SHA-256, one map lookup, one constant-time comparison and
 * nearly always a rate-limit point from this replica's lease (Redis once per lease). Cache miss: two
 * indexed primary/unique-key reads, shared by concurrent requests with the same token. Never a
 * database write.
 */
export function scimAuthenticator(deps: AuthenticatorDeps): Middleware {
  const { cache, lastUsed, tenantLimiter, failureLimiter, now } = deps;
  const lookup = deps.lookup ?? lookupToken;
  const hashToken = deps.hashToken ?? hashSecret;

  // The last Authorization header verified on each keep-alive connection, with its SHA-256. An IdP
  // sends the same header on every request of a connection; matching it (in constant time) replaces
  // parsing and hashing it again. It maps header to hash only: the cache lookup and every check
  // below (revoked, expired, SCIM off, rate limit) still run on each request. The header stays
  // referenced until the socket is gone, as the socket's own request objects held it.
  const verifiedOnSocket = new WeakMap<object, { header: string; hash: string }>();

  // One database lookup per token at a time: when a cached entry expires under load, the requests
  // that find it gone share one lookup instead of each reading the token (and its connection).
  const inflight = new Map<string, Promise<TokenRecord | null>>();
  function lookupOnce(hash: string): Promise<TokenRecord | null> {
    let pending = inflight.get(hash);
    if (!pending) {
      const startedAt = now();
      pending = lookup(deps.db, hash)
        .then((found) => {
          if (found) cache.set(found, startedAt);
          return found;
        })
        .finally(() => inflight.delete(hash));
      inflight.set(hash, pending);
    }
    return pending;
  }

  // Every 401 passes here: counts the failure against the address, slows or refuses repeat offenders.
  async function refuse(ctx: Context, error: AuthenticationError, reason: string, tokenId?: string): Promise<never> {
    const verdict = await failureLimiter.recordFailure(ctx.ip);
    const log: Logger | undefined = ctx.state.logger;
    // Never the credential itself: only why it failed and, when known, the token id.
    log?.info({ reason, ...(tokenId ? { tokenId } : {}), refused: verdict.refused }, 'SCIM authentication failed');
    if (verdict.refused) {
      throw new FailuresLimited('too many failed authentication attempts from this address; retry later', {
        headers: { 'Retry-After': String(verdict.retryAfterSeconds) },
      });
    }
    if (verdict.delayMs) await new Promise((resolve) => setTimeout(resolve, verdict.delayMs));
    throw error;
  }

  return async (ctx, next) => {
    const header = ctx.get('authorization');
    const socket: object | undefined = ctx.req?.socket;
    const seen = socket ? verifiedOnSocket.get(socket) : undefined;
    let hash: string;
    if (seen && timingSafeStringEqual(seen.header, header)) hash = seen.hash;
    else {
      const token = bearerToken(header || undefined);
      if (!token) {
        return refuse(ctx, scimUnauthenticated('SCIM bearer token required: send Authorization: Bearer <token>', Boolean(header)), header ? 'malformed' : 'missing');
      }
      if (!SCIM_TOKEN_FORMAT.test(token)) return refuse(ctx, scimUnauthenticated('bearer token is not a Doorman SCIM token', true), 'malformed');
      hash = hashToken(token);
    }

    let record = cache.get(hash);
    if (record) {
      if (!timingSafeStringEqual(record.hash, hash)) record = undefined;
    } else {
      try {
        record = (await lookupOnce(hash)) ?? undefined;
      } catch (err) {
        ctx.state.logger?.error({ err: (err as Error).message }, 'SCIM token lookup failed');
        throw new AuthUnavailable();
      }
    }
    if (!record) return refuse(ctx, scimUnauthenticated('bearer token is not valid', true), 'unknown');
    // The connection is known from here on: its refusals (revoked token, rate limit, …) reach its activity log.
    if (record.connection) ctx.state.connectionId = record.connectionId;

    const at = now();
    if (record.revokedAt !== null && record.revokedAt <= at) return refuse(ctx, scimUnauthenticated('bearer token has been revoked', true), 'revoked', record.tokenId);
    if (record.expiresAt !== null && record.expiresAt <= at) return refuse(ctx, scimUnauthenticated('bearer token has expired', true), 'expired', record.tokenId);
    if (!record.connection) return refuse(ctx, scimUnauthenticated("bearer token's SSO connection no longer exists", true), 'connection_deleted', record.tokenId);
    if (!record.connection.scimEnabled) throw new ScimDisabled();

    if (socket && seen?.hash !== hash) verifiedOnSocket.set(socket, { header, hash });
    lastUsed.touch(record.tokenId, at);
    // Nearly always a point from this replica's lease, decided without a promise; Redis only per lease.
    const perSecond = record.connection.rateLimitPerSecond ?? deps.defaultRatePerSecond;
    const decision = tenantLimiter.consumeLocal(record.connectionId, perSecond, at) ?? (await tenantLimiter.consume(record.connectionId, perSecond, at));
    if (!decision.allowed) throw new ConnectionRateLimited('rate limit exceeded for this SSO connection; retry later', { headers: rateLimitHeaders(decision) });
    // On success the headers are sent once less than half the window remains: a client nearing the
    // limit sees them, and the common request does not pay for them (measured with both gateways
    // under load at once, the three headers cost ~12% of a get by id's gateway CPU). A 429 always
    // carries them.
    if (decision.remaining < decision.limit / 2) ctx.set(rateLimitHeaders(decision));

    ctx.state.auth = { kind: 'scim', connectionId: record.connectionId, tokenId: record.tokenId } satisfies ScimAuthState;
    ctx.state.actor = { type: 'scim_token', id: record.tokenId, requestId: ctx.state.requestId ?? null };
    await next();
  };
}
