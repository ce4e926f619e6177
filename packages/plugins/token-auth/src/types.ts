import type { HttpSurface } from '@doorman/core';

// Koa, @koa/router and pino types come through core's contract: this package does not depend on them.
export type { Logger } from '@doorman/plugin-api';
export type Router = HttpSurface['admin'];
export type Middleware = Parameters<HttpSurface['setScimAuthenticator']>[0];
export type Context = Parameters<Middleware>[0];
