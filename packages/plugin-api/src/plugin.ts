import type { z } from 'zod';
import type { Events } from './events.ts';
import type { Jobs } from './jobs.ts';
import type { Clock, Database, GatewaySettings, PluginHttp, Logger, MetricsRegistry, RedisClient, Transaction } from './runtime-types.ts';

/**
 * A typed handle to a service: one of the runtime's (`coreServices`) or one a plugin provides
 * (`provides: [ref]`) and others declare in their `deps` (docs/architecture.md "Plugins").
 */
export interface ServiceRef<T> {
  readonly id: string;
  /** Phantom field carrying the type; never set. */
  readonly __type?: T;
}
export function createServiceRef<T>(id: string): ServiceRef<T> {
  return { id };
}

/**
 * A dependency the plugin works without: it receives a lookup, `() => T | undefined`, called when
 * needed, so a provider registered after the plugin (role mapping reads scim-groups' directory,
 * which itself needs role mapping) is found at run time, and a disabled one reads as undefined.
 */
export interface OptionalServiceRef<T> {
  readonly id: string;
  readonly optional: true;
  readonly __type?: T;
}
export function optionalRef<T>(ref: ServiceRef<T>): OptionalServiceRef<T> {
  return { id: ref.id, optional: true };
}

export type AnyServiceRef = ServiceRef<any> | OptionalServiceRef<any>;
/** What a plugin declares in `deps`: a name per ref. `register` receives the same names, resolved. */
export type PluginDeps = Record<string, AnyServiceRef>;

/** Marks `coreServices.config`: it resolves to the plugin's own validated settings (its `configSchema`'s output). */
export interface PluginConfigMarker {
  readonly __pluginConfig: true;
}

type ResolveDep<R, C> =
  R extends OptionalServiceRef<infer T> ? () => T | undefined : R extends ServiceRef<infer T> ? ([T] extends [PluginConfigMarker] ? C : T) : never;
/** What `register` receives for `deps: D`: each name bound to its service, typed. */
export type ResolvedDeps<D extends PluginDeps, C = unknown> = { [K in keyof D]: ResolveDep<D[K], C> };

/** Runs `work` in one database transaction, retrying on deadlocks (SQLite: serialised). */
export type TransactionRunner = <T>(work: (tx: Transaction) => Promise<T>) => Promise<T>;

/** Provides the services a plugin declared in `provides` to the plugins that declare them in `deps`. */
export interface ServiceProvider {
  provide<T>(ref: ServiceRef<T>, impl: T): void;
}

export interface PluginLifecycle {
  /** Runs on shutdown, after HTTP has stopped accepting (last added runs first). */
  onShutdown(hook: () => Promise<void> | void): void;
}

/**
 * The runtime's services, each scoped to the plugin that declares it (a child logger named after the
 * plugin, admin routes tagged with its id, its own settings). Ids start with `core.`.
 */
export const coreServices = {
  /** This plugin's validated settings (file `plugins.<id>` merged with `<ID>_*` env vars). */
  config: createServiceRef<PluginConfigMarker>('core.config'),
  /** The gateway's validated settings (mode, role, public URL, enabled plugins, …). */
  gateway: createServiceRef<GatewaySettings>('core.gateway'),
  logger: createServiceRef<Logger>('core.logger'),
  database: createServiceRef<Database>('core.database'),
  transaction: createServiceRef<TransactionRunner>('core.transaction'),
  /** The shared Redis client, or null in embedded development mode. */
  redis: createServiceRef<RedisClient | null>('core.redis'),
  http: createServiceRef<PluginHttp>('core.http'),
  events: createServiceRef<Events>('core.events'),
  jobs: createServiceRef<Jobs>('core.jobs'),
  metrics: createServiceRef<MetricsRegistry>('core.metrics'),
  clock: createServiceRef<Clock>('core.clock'),
  /** Provides what the plugin declared in `provides`. */
  provider: createServiceRef<ServiceProvider>('core.provider'),
  lifecycle: createServiceRef<PluginLifecycle>('core.lifecycle'),
} as const;

/** A CLI command that calls one of the plugin's admin routes in-process (`pnpm doorman <command>`). */
export interface CliCommand {
  /** e.g. `scim-tokens create <connectionId>`: positional args fill `:connectionId` in the path. */
  command: string;
  description: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Admin route under /admin/v1, e.g. `/connections/:connectionId/scim-tokens`. */
  path: string;
  /** Options sent as the JSON body (POST/PATCH/PUT) or query string (GET/DELETE). */
  options?: ReadonlyArray<{ flag: string; field: string; description: string; type?: 'string' | 'number' | 'boolean' | 'list' | 'json' | 'file' }>;
  /** Human-readable output of a successful answer (the command then takes `--json` to print the API body as is). */
  render?: (body: unknown) => string;
}

export interface PluginDefinition<C = unknown, D extends PluginDeps = PluginDeps> {
  /** Stable id, used in DOORMAN_PLUGINS, config and logs. */
  id: string;
  description: string;
  /** Validates this plugin's configuration slice (file `plugins.<id>` merged with `<ID>_*` env vars). */
  configSchema?: z.ZodType<C>;
  /**
   * The services `register` receives, by name: `{ tx: coreServices.transaction, roleMapping:
   * roleMappingServiceRef, sessions: optionalRef(ssoSessionServiceRef) }`. A required plugin service
   * no enabled plugin provides stops start-up (DMN_PLUGIN_DEPENDENCY_MISSING, naming plugin and ref);
   * its provider registers first.
   */
  deps?: D;
  /** The service refs this plugin provides (through `coreServices.provider`). */
  provides?: readonly ServiceRef<any>[];
  /** Plugins that must be enabled and registered before this one (for what no service ref expresses). */
  dependencies?: readonly string[];
  /** Plugins used when enabled (registered first), but not required. */
  optionalDependencies?: readonly string[];
  /** CLI commands mapped onto this plugin's admin routes. */
  cli?: readonly CliCommand[];
  /** Receives exactly the services named in `deps`, typed. */
  register(deps: ResolvedDeps<D, C>): Promise<void> | void;
}

/** Any plugin, as catalogs and the runtime hold them. */
export type AnyPluginDefinition = PluginDefinition<any, any>;

/** Declares a plugin. The one value a plugin package exports. */
export function definePlugin<C = unknown, D extends PluginDeps = Record<never, never>>(definition: PluginDefinition<C, D>): PluginDefinition<C, D> {
  return definition;
}
