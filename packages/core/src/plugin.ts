import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Actor, ScimAuthState } from '@doorman/plugin-api';
import type { AdminRouteDefinition } from './admin-routes.ts';
import type { AdminAuthState } from './http/admin-auth.ts';

/**
 * The runtime's HTTP surface a plugin mounts routes on (`PluginHttp` in @doorman/plugin-api, filled
 * in by runtime-types.ts). The plugin definition and service refs are the contract's (@doorman/plugin-api).
 */

/** What the gateway's middleware sets on every request's `ctx.state`. */
export interface RequestState {
  requestId?: string;
  /** The request's child logger (with its request id). */
  logger?: Logger;
  /** The connection the request is known to be about (refusals are recorded against it). */
  connectionId?: string;
  bodyBytes?: number;
}

/** `ctx.state` on a SCIM route: the authenticator (token-auth) has set the tenant and the actor. */
export interface ScimRequestState extends RequestState {
  auth: ScimAuthState;
  actor: Actor;
}

/** `ctx.state` on an admin route: admin authentication has set the token (or console session) and the actor. */
export interface AdminRequestState extends RequestState {
  auth: AdminAuthState;
  actor: Actor;
}

/** A SCIM route's context (`http.scim` handlers): `ctx.state.auth` names the tenant. */
export type ScimRouteContext = RouterContext<ScimRequestState>;

export interface HttpSurface {
  /** Routes under `/scim/v2`, behind the SCIM authenticator (token-auth). */
  scim: Router<ScimRequestState>;
  /**
   * The router under `/admin/v1`, behind admin authentication. Mount admin routes with `adminRoute`
   * instead: a route mounted here directly is missing from the OpenAPI document (a test fails).
   */
  admin: Router<AdminRequestState>;
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
