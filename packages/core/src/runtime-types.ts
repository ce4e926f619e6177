/**
 * Fills in the runtime types the contract (@doorman/plugin-api, runtime-types.ts) leaves open, so a
 * plugin's `tx` is a TypeORM EntityManager, its `http` the Koa routers, its `logger` pino, etc.
 * Loaded with @doorman/core's index (docs/architecture.md "Contract and runtime").
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from './config.ts';
import type { HttpSurface } from './plugin.ts';
import type { EventBus } from './events.ts';
import type { JobRegistry } from './jobs.ts';

declare module '@doorman/plugin-api' {
  interface RuntimeTypes {
    transaction: EntityManager;
    database: DataSource;
    redis: Redis;
    metrics: Registry;
    http: HttpSurface;
    httpContext: Context;
    gatewayConfig: GatewayConfig;
    logger: Logger;
    events: EventBus;
    jobs: JobRegistry;
  }
}
