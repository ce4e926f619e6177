import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import type { AdminRouteDefinition } from './admin-routes.ts';

/**
 * The runtime's HTTP surface a plugin mounts routes on (`PluginHttp` in @doorman/plugin-api, filled
 * in by runtime-types.ts). The plugin definition and service refs are the contract's (@doorman/plugin-api).
 */

export interface HttpSurface {
  /** Routes under `/scim/v2`, behind the SCIM authenticator (token-auth). */
  scim: Router;
  /**
   * The router under `/admin/v1`, behind admin authentication. Mount admin routes with `adminRoute`
   * instead: a route mounted here directly is missing from the OpenAPI document (a test fails).
   */
  admin: Router;
  /**
   * Declares an admin route under `/admin/v1`: its zod schemas validate the request, describe it in
   * the OpenAPI document (`/admin/v1/openapi.json`) and, in tests, check every response.
   */
  adminRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
    definition: AdminRouteDefinition<P, Q, B>,
  ): void;
  /** Routes at the root, unauthenticated (SSO sign-in pages, callbacks). */
  public: Router;
  /**
   * Installs the middleware that authenticates SCIM requests and sets `ctx.state.auth`.
   * Until one is installed every SCIM request is refused with 401.
   */
  setScimAuthenticator(middleware: Middleware): void;
  /**
   * Mounts a Koa middleware (e.g. a dashboard) under an admin-authenticated path prefix. Its 401s
   * carry a Basic challenge alone, so a browser prompts for the admin token as the password.
   */
  mountAdminApp(prefix: string, middleware: Middleware): void;
}
