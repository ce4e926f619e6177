import type { Server } from 'node:http';
import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase, redactUrl, runMigrationsLocked } from '@doorman/model';
import { ConfigError, describeIssues, pluginEnvPrefix, type GatewayConfig } from './config.ts';
import { createTransactionRunner } from './db.ts';
import { defineError, MethodNotAllowedError, PluginDeclaredTwice, PluginDependencyMissing } from '@doorman/plugin-api';
import { EventBus } from './events.ts';
import { adminAuthMiddleware } from './http/admin-auth.ts';
import { jsonBodyMiddleware } from './http/body.ts';
import { apiDocsMiddleware } from './http/api-docs.ts';
import { AdminRouteRegistry } from './admin-routes.ts';
import { ADMIN_API_PREFIX, buildOpenApiDocument, documentResponseChecker, openApiDocumentSchema, type OpenApiDocument } from './openapi.ts';
import { errorMiddleware, isScimRequest } from './http/error-middleware.ts';
import { observabilityMiddleware } from './http/observability.ts';
import { listenMetrics, metricsRoute } from './http/metrics-endpoint.ts';
import { JobRegistry } from './jobs.ts';
import { createLogger } from './logging.ts';
import { connectionParam } from './lookup.ts';
import { coreServices, type AnyPluginDefinition, type AnyServiceRef, type PluginLifecycle, type ServiceProvider, type ServiceRef, type TransactionRunner } from '@doorman/plugin-api';
import type { AdminRequestState, HttpSurface, ScimRequestState } from './plugin.ts';
import { PluginDependencyMissingError, PluginResolutionError, resolvePlugins } from './resolve.ts';
import './runtime-types.ts';
import { adminSessionAuthRef, refusalRecorderRef, type AdminSessionAuthenticator, type RefusalRecorder } from '@doorman/plugin-api';
import { withTimeout } from './timeout.ts';

/** 401 on /scim/v2 when no plugin authenticates SCIM requests (token-auth not enabled). */
const ScimAuthMissing = defineError('DMN_SCIM_AUTH_NOT_CONFIGURED', 401);

/** Each readiness check's bound: `/readyz` answers within a second even when a dependency hangs. */
const READINESS_CHECK_MS = 800;

export interface GatewayOptions {
  config: GatewayConfig;
  /** Raw per-plugin settings, validated here against each enabled plugin's schema. */
  pluginSettings?: Record<string, Record<string, unknown>>;
  /** Every plugin this build knows; `config.plugins` chooses among them. */
  catalog: readonly AnyPluginDefinition[];
  /** Plugins registered whatever the configuration says (the admin API). */
  builtins?: readonly AnyPluginDefinition[];
  logger?: Logger;
  /** Use this data source instead of opening `config.databaseUrl` (tests). */
  dataSource?: DataSource;
  clock?: { now(): Date };
  /** Check every admin response against its documented schema (tests: a mismatch is a 500). */
  validateAdminResponses?: boolean;
  /** The version the OpenAPI document states. */
  version?: string;
}

export interface Gateway {
  app: Koa;
  config: GatewayConfig;
  db: DataSource;
  redis: Redis | null;
  logger: Logger;
  events: EventBus;
  jobs: JobRegistry;
  metrics: Registry;
  plugins: AnyPluginDefinition[];
  /** The HTTP surface plugins received, for the composition root (e.g. to mount the job dashboard). */
  http: HttpSurface;
  /** Every admin route declared with `adminRoute` (and the document generated from them). */
  adminRoutes: AdminRouteRegistry;
  openApiDocument(): OpenApiDocument;
  transaction: TransactionRunner;
  get<T>(ref: ServiceRef<T>): T;
  /** Runs on close, before plugins' hooks and before pools close (last added runs first). */
  addShutdownHook(hook: () => Promise<void> | void): void;
  listen(): Promise<Server>;
  /** Stops accepting, drains in-flight requests, runs shutdown hooks, closes pools. */
  close(): Promise<void>;
}

/** Validates every enabled plugin's settings at once; throws ConfigError naming each bad setting. */
export function validatePluginSettings(plugins: readonly AnyPluginDefinition[], settings: Record<string, Record<string, unknown>>) {
  const problems: string[] = [];
  const parsed = new Map<string, unknown>();
  for (const p of plugins) {
    if (!p.configSchema) continue;
    const result = p.configSchema.safeParse(settings[p.id] ?? {});
    if (result.success) parsed.set(p.id, result.data);
    else {
      const snake = (path: string) => pluginEnvPrefix(p.id) + path.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase();
      problems.push(...describeIssues(result.error, snake));
    }
  }
  return { parsed, problems };
}

/** The composition root's engine: config → core services → plugins → a Koa app. */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const enabled = resolvePlugins(config.plugins, options.catalog, options.builtins);
  const plugins = [...(options.builtins ?? []), ...enabled];
  const { parsed, problems } = validatePluginSettings(plugins, options.pluginSettings ?? {});
  if (problems.length) throw new ConfigError(problems);

  const logger =
    options.logger ?? (await createLogger({ level: config.logLevel, format: config.logFormat, mode: config.mode, base: { service: 'doorman', role: config.role } }));
  const db = options.dataSource ?? createDataSource({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  if (!db.isInitialized) {
    await openDatabase(db, {
      url: config.databaseUrl,
      create: config.databaseCreate,
      onCreate: (database) => logger.info({ database }, 'database created (DATABASE_CREATE=true)'),
    });
    const ran = await runMigrationsLocked(db, { onWait: () => logger.info('another process is migrating the database: waiting for it') });
    if (ran.length) logger.info({ migrations: ran.map((m) => m.name), database: redactUrl(config.databaseUrl) }, 'migrations applied');
  }
  const redis = config.redisUrl
    ? // commandTimeout: a hung Redis (accepting connections, never answering) fails each command within
      // the bound instead of stalling the request that made it (README "Failure behaviour").
      new Redis(config.redisUrl, {
        lazyConnect: false,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectTimeout: 2000,
        commandTimeout: config.redisCommandTimeoutMs,
      })
    : null;
  // Without an error listener ioredis prints every reconnect failure; the readiness probe reports it instead.
  redis?.on('error', (err) => logger.debug({ err: err.message }, 'redis connection error'));
  // Give Redis a moment to connect so the first requests do not fail open needlessly; an outage is not fatal here.
  if (redis && redis.status !== 'ready') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'doorman_' });
  const events = new EventBus();
  const jobs = new JobRegistry();
  const transaction = createTransactionRunner(db);
  const clock = options.clock ?? { now: () => new Date() };
  const services = new Map<string, unknown>();
  const shutdownHooks: Array<() => Promise<void> | void> = [];

  const scimRouter = new Router<ScimRequestState>({ prefix: '/scim/v2' });
  const adminRouter = new Router<AdminRequestState>({ prefix: ADMIN_API_PREFIX });
  let document: OpenApiDocument | undefined;
  let checker: ReturnType<typeof documentResponseChecker> | undefined;
  const openApiDocument = (): OpenApiDocument => (document ??= buildOpenApiDocument(adminRoutes.routes, { version: options.version ?? '0.1.0' }));
  const adminRoutes: AdminRouteRegistry = new AdminRouteRegistry(adminRouter, {
    validateResponses: options.validateAdminResponses ?? false,
    documentChecker: () => (checker ??= documentResponseChecker(openApiDocument())),
    db,
  });
  // Every plugin's `:connectionId` accepts a connection's name too (people type names).
  adminRouter.param('connectionId', connectionParam(db));
  const publicRouter = new Router();
  const adminApps: Array<{ prefix: string; middleware: Middleware }> = [];
  const mountedAdminApp = (path: string) => adminApps.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`));
  let scimAuthenticator: Middleware = async () => {
    throw new ScimAuthMissing('SCIM authentication is not configured: enable the token-auth plugin', { headers: { 'WWW-Authenticate': 'Bearer' } });
  };
  const http: HttpSurface = {
    scim: scimRouter,
    admin: adminRouter,
    public: publicRouter,
    setScimAuthenticator(mw) {
      scimAuthenticator = mw;
    },
    mountAdminApp(prefix, middleware) {
      adminApps.push({ prefix, middleware });
    },
    adminRoute(definition) {
      adminRoutes.add('core', definition as never);
    },
  };

  for (const plugin of plugins) {
    // Each core service scoped to the plugin: its logger, its settings, its admin routes' OpenAPI tag.
    const core: Record<string, () => unknown> = {
      [coreServices.config.id]: () => parsed.get(plugin.id),
      [coreServices.gateway.id]: () => config,
      [coreServices.logger.id]: () => logger.child({ plugin: plugin.id }),
      [coreServices.database.id]: () => db,
      [coreServices.transaction.id]: () => transaction,
      [coreServices.redis.id]: () => redis,
      // Routes a plugin declares are tagged with its id in the OpenAPI document.
      [coreServices.http.id]: (): HttpSurface => ({ ...http, adminRoute: (definition) => adminRoutes.add(plugin.id, definition as never) }),
      [coreServices.events.id]: () => events,
      [coreServices.jobs.id]: () => jobs,
      [coreServices.metrics.id]: () => metrics,
      [coreServices.clock.id]: () => clock,
      [coreServices.provider.id]: (): ServiceProvider => ({
        provide<T>(ref: ServiceRef<T>, impl: T) {
          if (!(plugin.provides ?? []).some((r) => r.id === ref.id)) throw new PluginResolutionError(`plugin '${plugin.id}' provides service '${ref.id}' without declaring it in 'provides'`);
          if (services.has(ref.id)) throw new PluginDeclaredTwice(`service '${ref.id}' provided twice (by '${plugin.id}')`);
          services.set(ref.id, impl);
        },
      }),
      [coreServices.lifecycle.id]: (): PluginLifecycle => ({ onShutdown: (hook) => void shutdownHooks.push(hook) }),
    };
    const resolved: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries((plugin.deps ?? {}) as Record<string, AnyServiceRef>)) {
      const coreService = core[ref.id];
      if (coreService) resolved[name] = coreService();
      else if (ref.id.startsWith('core.')) throw new PluginResolutionError(`plugin '${plugin.id}' asks for unknown core service '${ref.id}'`);
      // Optional: a lookup when called, so a provider registered later is found at run time.
      else if ('optional' in ref && ref.optional) resolved[name] = () => services.get(ref.id);
      else if (services.has(ref.id)) resolved[name] = services.get(ref.id);
      else throw new PluginDependencyMissingError(plugin.id, ref.id);
    }
    await plugin.register(resolved as never);
    logger.debug({ plugin: plugin.id }, 'plugin registered');
  }

  http.adminRoute({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tags: ['core'],
    scope: 'deployment',
    responses: { 200: { description: 'the document, generated from the routes’ schemas', schema: openApiDocumentSchema } },
    handler: () => openApiDocument(),
  });
  adminApps.push({ prefix: '/admin/docs', middleware: apiDocsMiddleware('/admin/docs', `${ADMIN_API_PREFIX}/openapi.json`) });

  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true;
  app.use(observabilityMiddleware(logger, metrics));
  // Refused SCIM/SSO requests go to whichever plugin records them (the people plugin): looked up per
  // refusal, never awaited, so neither success nor the error answer waits (docs/connection-activity.md).
  app.use(errorMiddleware({ now: () => clock.now(), onRefused: (refusal) => (services.get(refusalRecorderRef.id) as RefusalRecorder | undefined)?.record(refusal) }));

  const ops = new Router();
  ops.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  ops.get('/readyz', async (ctx) => {
    // Each check is bounded, so the probe answers within a second even when a dependency hangs.
    const check = async (probe: () => Promise<unknown>) => {
      try {
        await withTimeout(probe(), READINESS_CHECK_MS, `no answer within ${READINESS_CHECK_MS} ms`);
        return 'ok';
      } catch (err) {
        return `unreachable: ${(err as Error).message}`;
      }
    };
    const [database, redisCheck] = await Promise.all([check(() => db.query('SELECT 1')), redis ? check(() => redis.ping()) : undefined]);
    const checks: Record<string, 'ok' | string> = { database, ...(redisCheck ? { redis: redisCheck } : {}) };
    const ready = Object.values(checks).every((v) => v === 'ok');
    ctx.status = ready ? 200 : 503;
    if (!ready) ctx.set('Retry-After', '5');
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });
  // With METRICS_PORT, /metrics is served on that listener only (see listen()).
  if (!config.metricsPort) ops.get('/metrics', metricsRoute(metrics, config.metricsToken));
  app.use(ops.routes());
  // A worker-role process serves only health, readiness and metrics.
  if (config.role !== 'worker') mountApiRoutes();
  function mountApiRoutes() {
    app.use(publicRouter.routes());
    app.use(publicRouter.allowedMethods());

    const adminAuth = adminAuthMiddleware(
      db,
      config.adminBootstrapToken,
      () => services.get(adminSessionAuthRef.id) as AdminSessionAuthenticator | undefined,
      (ctx) => (mountedAdminApp(ctx.path) ? 'basic' : 'bearer'),
    );
    const methodNotAllowed = () => new MethodNotAllowedError('method not allowed on this resource');
    app.use(async (ctx, next) => {
      if (ctx.path === '/admin' || ctx.path.startsWith('/admin/')) return adminAuth(ctx, next);
      if (isScimRequest(ctx)) return scimAuthenticator(ctx, next);
      return next();
    });
    // Bodies are read only once the caller is authenticated (admin and SCIM routes); see http/body.ts.
    app.use(jsonBodyMiddleware({ limitBytes: config.bodyLimitBytes, maxDepth: config.bodyMaxDepth, maxValues: config.bodyMaxValues }));
    app.use(adminRouter.routes());
    app.use(adminRouter.allowedMethods({ throw: true, methodNotAllowed }));
    app.use(scimRouter.routes());
    app.use(scimRouter.allowedMethods({ throw: true, methodNotAllowed }));
    // Looked up per request, so the composition root can mount apps (the job dashboard) after build.
    app.use(async (ctx, next) => {
      const mounted = mountedAdminApp(ctx.path);
      return mounted ? mounted.middleware(ctx, next) : next();
    });
  }

  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let closing: Promise<void> | undefined;
  const gateway: Gateway = {
    app,
    config,
    db,
    redis,
    logger,
    events,
    jobs,
    metrics,
    plugins,
    http,
    adminRoutes,
    openApiDocument,
    transaction,
    get<T>(ref: ServiceRef<T>) {
      if (!services.has(ref.id)) throw new PluginDependencyMissing(`no plugin provides service '${ref.id}'`);
      return services.get(ref.id) as T;
    },
    addShutdownHook(hook) {
      shutdownHooks.push(hook);
    },
    async listen() {
      server = app.listen(config.port, config.host);
      await new Promise<void>((resolve, reject) => {
        server!.once('listening', resolve);
        server!.once('error', reject);
      });
      if (config.metricsPort) metricsServer = await listenMetrics(config.metricsPort, config.host, metrics, config.metricsToken);
      return server;
    },
    close() {
      closing ??= (async () => {
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              logger.warn('shutdown timeout reached: closing remaining connections');
              s.closeAllConnections();
            }, config.shutdownTimeoutMs);
            s.close(() => {
              clearTimeout(timer);
              resolve();
            });
            s.closeIdleConnections();
          });
        }
        if (metricsServer) {
          const m = metricsServer;
          await new Promise<void>((resolve) => {
            m.close(() => resolve());
            m.closeAllConnections(); // scrapes are short; a scraper's keep-alive must not hold shutdown
          });
        }
        for (const hook of shutdownHooks.reverse()) await hook();
        redis?.disconnect();
        if (db.isInitialized && !options.dataSource) await db.destroy();
      })();
      return closing;
    },
  };
  return gateway;
}
