import { randomBytes } from 'node:crypto';
import { ConfigError } from '@doorman/core';
import { definePlugin, ssoIdentityRef, ssoSessionServiceRef } from '@doorman/plugin-api';
import { ssoIdentityService } from './identity.ts';
import { ssoSessionService, subscribeDeprovisioning } from './deprovisioning.ts';
import { configSchema } from './config.ts';
import { jitDeps } from './deps.ts';
import { registerRoutes } from './routes.ts';
import { memoryStore, redisStore } from './store.ts';

export const jitProvisioningPlugin = definePlugin({
  id: 'jit-provisioning',
  description: 'SSO sign-in (OIDC and SAML 2.0) that provisions people just in time, with a signed session cookie',
  configSchema,
  provides: [ssoSessionServiceRef, ssoIdentityRef],
  deps: jitDeps,
  register(env) {
    let sessionSecret = env.config.sessionSecret;
    if (!sessionSecret) {
      if (env.gateway.mode === 'production') throw new ConfigError(['JIT_PROVISIONING_SESSION_SECRET: required in production mode']);
      sessionSecret = randomBytes(32).toString('base64url');
      env.logger.warn(
        'JIT_PROVISIONING_SESSION_SECRET is not set: using a random secret for this process only. SSO sessions will not survive a restart and will not work across replicas. Set it in production.',
      );
    }
    const store = env.redis ? redisStore(env.redis) : memoryStore(() => env.clock.now().getTime());
    if (!env.redis) env.logger.warn('no Redis: SSO sign-in state is kept in this process only (embedded mode; one replica)');
    registerRoutes(env, { store, sessionSecret });
    // Organization-wide deprovisioning (docs/org-wide-deprovisioning.md): in the SCIM change's transaction.
    const now = () => env.clock.now();
    subscribeDeprovisioning(env.events, now);
    env.provider.provide(ssoSessionServiceRef, ssoSessionService(env.events, now));
    // Who is signed in, for the console's organization-owner sign-in (docs/console.md).
    env.provider.provide(ssoIdentityRef, ssoIdentityService(env, { sessionSecret, cookieName: env.config.cookieName }));
  },
});
