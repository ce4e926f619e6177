import { z } from 'zod';

/**
 * Settings, from `plugins.token-auth` in the config file or TOKEN_AUTH_* variables
 * (e.g. TOKEN_AUTH_CACHE_TTL_MS). Strings from the environment are coerced.
 */
export const tokenAuthConfigSchema = z
  .object({
    /** How long a verified token lookup is reused in-process: the worst-case delay for a revocation to reach a replica that missed the Redis invalidation. 0 = no cache. */
    cacheTtlMs: z.coerce.number().int().min(0).max(60_000).default(5_000),
    /** How often buffered `lastUsedAt` times are written (one UPDATE per used token). */
    lastUsedFlushMs: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    /** Default sustained SCIM requests per second per connection (a connection's `rate_limit_per_second` overrides it). */
    rateLimitPerSecond: z.coerce.number().int().min(1).max(100_000).default(100),
    /** The rate-limit window in seconds: a connection may spend `rateLimitPerSecond × burstSeconds` requests anywhere inside it. */
    burstSeconds: z.coerce.number().int().min(1).max(3_600).default(10),
    /** Failed authentications per minute from one address before it is refused with 429. */
    authFailuresPerMinute: z.coerce.number().int().min(1).max(100_000).default(10),
  })
  .strict();

export type TokenAuthConfig = z.infer<typeof tokenAuthConfigSchema>;
