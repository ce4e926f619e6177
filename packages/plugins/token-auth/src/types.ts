import type { HttpSurface } from '@doorman/core';
import type { PluginEnv } from '@doorman/plugin-api';

// Koa, @koa/router and pino types come through core's contract: this package does not depend on them.
export type Logger = PluginEnv<unknown>['logger'];
export type Router = HttpSurface['admin'];
export type Middleware = Parameters<HttpSurface['setScimAuthenticator']>[0];
export type Context = Parameters<Middleware>[0];
