import type { z } from 'zod';
import type { Events } from './events.ts';
import type { Jobs } from './jobs.ts';
import type { Clock, Database, GatewaySettings, PluginHttp, Logger, MetricsRegistry, RedisClient, Transaction } from './runtime-types.ts';

/** A typed handle to a service one plugin provides and others declare they need. */
export interface ServiceRef<T> {
  readonly id: string;
  /** Phantom field carrying the type; never set. */
  readonly __type?: T;
}
export function createServiceRef<T>(id: string): ServiceRef<T> {
  return { id };
}

/** What a plugin's `register` receives. Everything is scoped to that plugin. */
export interface PluginEnv<C> {
  pluginId: string;
  /** This plugin's validated configuration slice. */
  config: C;
  gateway: GatewaySettings;
  logger: Logger;
  db: Database;
  /** Runs `work` in one database transaction, retrying on deadlocks. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** The shared Redis client, or null in embedded development mode. */
  redis: RedisClient | null;
  http: PluginHttp;
  events: Events;
  jobs: Jobs;
  metrics: MetricsRegistry;
  clock: Clock;
  /** A service provided by a plugin this plugin depends on. */
  get<T>(ref: ServiceRef<T>): T;
  /**
   * A service some enabled plugin may provide, looked up when called (so a plugin registered after
   * this one is found at run time, e.g. inside a job), or undefined when none does.
   */
  find<T>(ref: ServiceRef<T>): T | undefined;
  /** Provides a service to plugins that depend on this one. */
  provide<T>(ref: ServiceRef<T>, impl: T): void;
  /** Runs on shutdown, after HTTP has stopped accepting. */
  onShutdown(hook: () => Promise<void> | void): void;
}

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

export interface PluginDefinition<C = unknown> {
  /** Stable id, used in DOORMAN_PLUGINS, config and logs. */
  id: string;
  description: string;
  /** Validates this plugin's configuration slice (file `plugins.<id>` merged with `<ID>_*` env vars). */
  configSchema?: z.ZodType<C>;
  /** Plugins that must be enabled and registered before this one. */
  dependencies?: readonly string[];
  /** Plugins used when enabled (registered first), but not required. */
  optionalDependencies?: readonly string[];
  /** CLI commands mapped onto this plugin's admin routes. */
  cli?: readonly CliCommand[];
  register(env: PluginEnv<C>): Promise<void> | void;
}

/** Declares a plugin. The one value a plugin package exports. */
export function definePlugin<C>(definition: PluginDefinition<C>): PluginDefinition<C> {
  return definition;
}
