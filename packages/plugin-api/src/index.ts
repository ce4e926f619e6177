/**
 * @doorman/plugin-api: what a plugin author imports (docs/architecture.md "Contract and runtime").
 * Dependency-light on purpose: no Koa, TypeORM, ioredis, BullMQ or database driver (ESLint enforces).
 */
export * from './errors.ts';
export * from './runtime-types.ts';
export * from './plugin.ts';
export * from './events.ts';
export * from './jobs.ts';
export * from './refs.ts';
export * from './event-catalog.ts';
