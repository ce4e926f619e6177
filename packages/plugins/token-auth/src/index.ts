import { connectionDeleted, connectionUpdated, coreServices, definePlugin, scimAuthenticationRef, type ScimAuthenticationScheme } from '@doorman/plugin-api';
import { mountAdminRoutes } from './admin-routes.ts';
import { scimAuthenticator } from './authenticator.ts';
import { tokenAuthCli } from './cli.ts';
import { tokenAuthConfigSchema } from './config.ts';
import { InvalidationBus } from './invalidation.ts';
import { LastUsedBuffer } from './last-used.ts';
import { AuthFailureLimiter, TenantRateLimiter, createFailOpenCounter, throttledWarning, type LimiterName } from './limits.ts';
import { TokenCache } from './token-cache.ts';

export type { TokenAuthConfig } from './config.ts';

/** What the SCIM authenticator accepts, as /ServiceProviderConfig advertises it (scimAuthenticationRef). */
const BEARER_TOKEN_SCHEME: ScimAuthenticationScheme = {
  type: 'oauthbearertoken',
  name: 'OAuth Bearer Token',
  description: 'Authentication with the SCIM API token as an OAuth 2.0 bearer token',
  specUri: 'https://www.rfc-editor.org/info/rfc6750',
  primary: true,
};

/**
 * SCIM bearer tokens per SSO connection, admin tokens, the SCIM authenticator, brute-force
 * protection and per-connection rate limits. See README.md for settings and guarantees.
 */
export const tokenAuthPlugin = definePlugin({
  id: 'token-auth',
  description: 'SCIM bearer tokens per SSO connection, admin tokens, SCIM authentication and per-connection rate limits',
  configSchema: tokenAuthConfigSchema,
  cli: tokenAuthCli,
  provides: [scimAuthenticationRef],
  deps: {
    config: coreServices.config,
    logger: coreServices.logger,
    db: coreServices.database,
    transaction: coreServices.transaction,
    redis: coreServices.redis,
    http: coreServices.http,
    events: coreServices.events,
    metrics: coreServices.metrics,
    clock: coreServices.clock,
    lifecycle: coreServices.lifecycle,
    provider: coreServices.provider,
  },
  async register(env) {
    const { config, logger } = env;
    const now = () => env.clock.now().getTime();

    const cache = new TokenCache(config.cacheTtlMs, now);
    const bus = new InvalidationBus(env.redis, logger, (invalidation) => cache.invalidate(invalidation));
    await bus.start();

    const failOpen = createFailOpenCounter(env.metrics);
    const warn = throttledWarning(logger);
    const onFailOpen = (limiter: LimiterName) => {
      failOpen.inc(limiter);
      warn({ limiter }, 'rate limiter cannot reach Redis: failing open to per-replica in-memory limits');
    };
    const tenantLimiter = new TenantRateLimiter({ redis: env.redis, onFailOpen }, config.burstSeconds);
    const failureLimiter = new AuthFailureLimiter({ redis: env.redis, onFailOpen }, config.authFailuresPerMinute);

    const lastUsed = new LastUsedBuffer();
    const flushTimer = setInterval(() => void lastUsed.flush(env.db, logger), config.lastUsedFlushMs);
    flushTimer.unref();

    env.http.setScimAuthenticator(
      scimAuthenticator({ db: env.db, cache, lastUsed, tenantLimiter, failureLimiter, defaultRatePerSecond: config.rateLimitPerSecond, now }),
    );
    // The SCIM plugins require this ref (not the plugin id): whatever installs the authenticator provides it.
    env.provider.provide(scimAuthenticationRef, { schemes: [BEARER_TOKEN_SCHEME] });

    mountAdminRoutes(env.http, {
      transaction: env.transaction,
      events: env.events,
      now: () => env.clock.now(),
      invalidate: (invalidation) => bus.publish(invalidation),
      pendingLastUsed: (tokenId) => lastUsed.peek(tokenId),
    });

    // SCIM toggled or connection deleted (admin plugin). This runs inside that transaction, before
    // commit; TokenCache refuses to re-cache the connection for one TTL, which covers the race.
    env.events.on([connectionUpdated, connectionDeleted], async (_tx, _actor, event) => {
      const connectionId = event.target?.id ?? event.connectionId;
      if (connectionId) await bus.publish({ connectionIds: [connectionId] });
    });

    env.lifecycle.onShutdown(async () => {
      clearInterval(flushTimer);
      bus.stop();
      await lastUsed.flush(env.db, logger);
    });
  },
});
