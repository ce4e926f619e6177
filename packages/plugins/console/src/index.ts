import type { Context } from 'koa';
import { z } from 'zod';
import { hashSecret, jsonBodyMiddleware, verifyAdminToken } from '@doorman/core';
import { adminSessionAuthRef, consoleSignedIn, consoleSignedOut, coreServices, defineError, definePlugin, InputError, optionalRef, ssoIdentityRef } from '@doorman/plugin-api';
import { consoleAssets, CONSOLE_PATH, findAssetsDir } from './assets.ts';
import { configSchema } from './config.ts';
import { ConsoleSessions, type ValidSession } from './sessions.ts';
import { ownerView, registerSsoSignIn } from './sso-sign-in.ts';
import { healthSchema, readHealth } from './health.ts';

/** 401: no console session, or it ended. */
const NotSignedIn = defineError('DMN_CONSOLE_NOT_SIGNED_IN', 401);
/** 401: signing in to the console with an unknown or revoked admin token. */
const AdminTokenInvalid = defineError('DMN_ADMIN_TOKEN_INVALID', 401);

export type { ConsoleConfig } from './config.ts';
export { ConsoleSessions } from './sessions.ts';

const signInBody = z.object({ token: z.string().min(1, 'required').max(512) }).strict();
const PURGE_EVERY_MS = 10 * 60 * 1000;
/** /console and every path below it but the session API: the app's pages and files. */
const CONSOLE_ROUTE = /^\/console(?!\/api(?:\/|$))(?:\/.*)?$/;

/**
 * The admin console: serves the single-page app (apps/console) under /console and owns its
 * server-side sessions. An operator signs in with an admin token, which the browser never keeps:
 * the answer is an HttpOnly, SameSite=Strict session cookie that the admin API and the job
 * dashboard accept in place of the token (through `adminSessionAuthRef`; docs/console.md).
 */
export const consolePlugin = definePlugin({
  id: 'console',
  description: 'Admin console (web UI) under /console with server-side sessions',
  configSchema,
  cli: [{ command: 'health', description: 'readiness, queue depths, outbox backlog and failed jobs (what the console Health page shows)', method: 'GET', path: '/health' }],
  provides: [adminSessionAuthRef],
  deps: {
    config: coreServices.config,
    gateway: coreServices.gateway,
    logger: coreServices.logger,
    db: coreServices.database,
    transaction: coreServices.transaction,
    redis: coreServices.redis,
    http: coreServices.http,
    events: coreServices.events,
    metrics: coreServices.metrics,
    clock: coreServices.clock,
    provider: coreServices.provider,
    // jit-provisioning's SSO session, for organization owners signing in (docs/console.md); looked up when needed.
    sso: optionalRef(ssoIdentityRef),
    lifecycle: coreServices.lifecycle,
  },
  register(env) {
    const { config, gateway, db, clock, http, events, transaction, provider, lifecycle, logger } = env;
    const publicUrl = new URL(gateway.publicUrl);
    const sessions = new ConsoleSessions({
      db,
      clock,
      limits: { idleMs: config.idleMinutes * 60_000, absoluteMs: config.absoluteHours * 3_600_000 },
      cookie: { name: config.cookieName, secure: publicUrl.protocol === 'https:' },
      bootstrapConfigured: Boolean(gateway.adminBootstrapToken),
      publicOrigin: publicUrl.origin,
      // Looked up when a session is checked: jit-provisioning may be registered after this plugin.
      sso: env.sso,
    });
    provider.provide(adminSessionAuthRef, sessions);
    const bootstrapHash = gateway.adminBootstrapToken ? hashSecret(gateway.adminBootstrapToken) : undefined;
    const r = http.public;
    const api = `${CONSOLE_PATH}/api/session`;

    /** The session JSON: the CSRF token, and for an organization owner who they are and what they own. */
    const respond = async (ctx: Context, session: ValidSession, status: number) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.status = status;
      ctx.body = { csrfToken: session.csrfToken, expiresInSeconds: session.expiresInSeconds, tokenId: session.row.tokenId, publicUrl: gateway.publicUrl, owner: await ownerView(env, session) };
    };

    r.get(api, async (ctx) => {
      const session = await sessions.current(ctx);
      if (!session) throw new NotSignedIn('not signed in to the console');
      ctx.append('Set-Cookie', sessions.refreshCookie(session));
      await respond(ctx, session, 200);
    });

    // Public routes get no body parsing from the core (it reads bodies only after authentication):
    // the sign-in form is read here, with limits fit for one token.
    const smallBody = jsonBodyMiddleware({ limitBytes: 4096, maxDepth: 2, maxValues: 4 });
    r.post(api, smallBody, async (ctx) => {
      const parsed = signInBody.safeParse(ctx.request.body ?? {});
      if (!parsed.success) throw new InputError('send {"token": "<admin token>"}', { field: 'token' });
      const tokenId = await verifyAdminToken(db, bootstrapHash, parsed.data.token);
      if (!tokenId) throw new AdminTokenInvalid('this admin token is not valid (unknown or revoked)', { field: 'token' });
      const { setCookie, session } = await sessions.open(tokenId);
      const actor = { type: 'admin_token' as const, id: tokenId, requestId: ctx.state.requestId ?? null };
      await transaction((tx) => events.publish(tx, actor, consoleSignedIn({ target: { type: 'admin_token', id: tokenId } })));
      ctx.append('Set-Cookie', setCookie);
      await respond(ctx, session, 201);
    });
    registerSsoSignIn(env, r, sessions, respond);

    r.delete(api, async (ctx) => {
      // Signing out needs the CSRF token too: another site cannot end an operator's session.
      const auth = await sessions.authenticate(ctx);
      const cleared = await sessions.close(ctx);
      if (auth?.kind === 'owner') {
        const actor = { type: 'sso_user' as const, id: auth.userId, requestId: ctx.state.requestId ?? null };
        await transaction((tx) => events.publish(tx, actor, consoleSignedOut({ target: { type: 'user', id: auth.userId } })));
      } else if (auth) {
        const actor = { type: 'admin_token' as const, id: auth.tokenId, requestId: ctx.state.requestId ?? null };
        await transaction((tx) => events.publish(tx, actor, consoleSignedOut({ target: { type: 'admin_token', id: auth.tokenId } })));
      }
      ctx.append('Set-Cookie', cleared);
      ctx.status = 204;
    });

    http.adminRoute({
      method: 'get',
      path: '/health',
      scope: 'deployment',
      summary: 'Deployment health',
      description: 'Readiness (database, Redis), queue depths by state, outbox backlog and failed jobs, as the console Health page shows them.',
      responses: { 200: { description: 'health', schema: healthSchema } },
      handler: () => readHealth(env),
    });

    const assets = consoleAssets(findAssetsDir(config.assetsDir));
    r.get(CONSOLE_ROUTE, assets);
    r.head(CONSOLE_ROUTE, assets);

    const timer = setInterval(() => {
      sessions.purge().catch((err: Error) => logger.warn({ err: err.message }, 'console session purge failed'));
    }, PURGE_EVERY_MS);
    timer.unref();
    lifecycle.onShutdown(() => clearInterval(timer));
  },
});
