/**
 * The contract names no runtime library (docs/architecture.md "Contract and runtime"): the types of
 * the runtime's objects (a TypeORM EntityManager for a transaction, pino for the logger, the Koa
 * routers, ioredis, prom-client) are filled in by the runtime, @doorman/core, through TypeScript
 * module augmentation of `RuntimeTypes` (packages/core/src/runtime-types.ts). Every program that
 * loads a plugin loads the runtime too, so plugins see the real types; this package and the pure
 * packages (packages/scim) see the minimal fallbacks below. One type is the protocol package's, not
 * the runtime's: `scimAttributeMap` (a filter attribute map, `ScimFilterAttributes` in refs.ts), filled
 * in by @doorman/scim.
 */
// Augmented by @doorman/core; empty here on purpose.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RuntimeTypes {}

/** The runtime's type registered under `K`, else `Fallback`. */
export type RuntimeType<K extends string, Fallback> = RuntimeTypes extends { [P in K]: infer T } ? T : Fallback;

/** An open database transaction (the runtime's: a TypeORM EntityManager). */
export type Transaction = RuntimeType<'transaction', { readonly __transaction?: never }>;
/** The database (the runtime's: a TypeORM DataSource). */
export type Database = RuntimeType<'database', { readonly __database?: never }>;
/** The shared Redis client (the runtime's: ioredis). */
export type RedisClient = RuntimeType<'redis', { readonly __redis?: never }>;
/** The metrics registry (the runtime's: prom-client's Registry). */
export type MetricsRegistry = RuntimeType<'metrics', { readonly __metrics?: never }>;
/** The HTTP surface routes are mounted on (the runtime's: Koa routers, packages/core/src/plugin.ts). */
export type PluginHttp = RuntimeType<'http', { readonly __http?: never }>;
/** One HTTP request's context (the runtime's: Koa's Context). */
export type HttpContext = RuntimeType<'httpContext', { readonly __httpContext?: never }>;
/** The gateway's validated settings (packages/core/src/config.ts). */
export type GatewaySettings = RuntimeType<'gatewayConfig', { readonly mode: string }>;

/** What a plugin logs through (the runtime's: a pino child logger). */
export type Logger = RuntimeType<'logger', MinimalLogger>;

type LogFn = (objOrMsg: unknown, msg?: string) => void;
export interface MinimalLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): MinimalLogger;
}

export interface Clock {
  now(): Date;
}
