/**
 * Admin routes described by construction: a plugin declares a route's method, path, request schemas
 * (zod) and response schemas once; the same schemas validate the request, generate the OpenAPI 3.1
 * document (`/admin/v1/openapi.json`) and, in tests, check every response (docs/admin-api.md).
 */
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { z } from 'zod';
import type { DataSource } from 'typeorm';
import { defineError, InputError, PluginDeclaredTwice } from '@doorman/plugin-api';
import { enforceScope, ownerOrgIds, OwnerRefused, type AdminRouteScope } from './scope.ts';
import type { AdminRequestState } from './plugin.ts';

export type AdminMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A response: its schema (JSON), or a non-JSON body (`contentType`), or none (`schema: null`, e.g. 204). */
export interface AdminResponseSpec {
  description: string;
  /** The JSON body's schema; null for a response without a body. */
  schema: z.ZodType | null;
  /** Defaults to application/json; another type (NDJSON, CSV, HTML) is documented as a string body. */
  contentType?: string | readonly string[];
}

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;

export interface AdminRouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
}

export interface AdminRouteDefinition<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined> {
  method: AdminMethod;
  /** Koa-style, under /admin/v1: `/orgs/:org`. */
  path: string;
  summary: string;
  description?: string;
  /** OpenAPI tags; default: the declaring plugin's id. */
  tags?: string[];
  /** Path parameters; default: each `:name` a string. */
  params?: P;
  /** The query string (an object schema). Unknown parameters are refused by name. */
  query?: Q;
  /** The JSON body. */
  body?: B;
  /**
   * Required: which organizations the route touches, so an organization owner's console session runs
   * it only within their organizations (`'deployment'` refuses owners; scope.ts, docs/console.md).
   */
  scope: AdminRouteScope<{ params: Record<string, string> }>;
  /** By status. The lowest 2xx is the status set before the handler runs (it may set another). */
  responses: Record<number, AdminResponseSpec>;
  /** Sets `ctx.body`, or returns the body. `ctx.state` carries the admin actor. */
  handler(ctx: AdminRouteContext, input: AdminRouteInput<P, Q, B>): unknown;
}

/** An admin route's context: `ctx.state.actor` and `ctx.state.auth` are set by admin authentication. */
export type AdminRouteContext = RouterContext<AdminRequestState>;

export interface RegisteredAdminRoute {
  pluginId: string;
  definition: AdminRouteDefinition<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;
}

/** Declares an admin route with its types inferred from its schemas (identity at run time). */
export function defineAdminRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  definition: AdminRouteDefinition<P, Q, B>,
): AdminRouteDefinition<P, Q, B> {
  return definition;
}

/** The `:name` parameters of a Koa path. */
export const pathParamNames = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
/** `/orgs/:org` → `/orgs/{org}` (OpenAPI's template syntax). */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function defaultParamsSchema(path: string): z.ZodObject {
  return z.object(Object.fromEntries(pathParamNames(path).map((n) => [n, z.string().min(1)])));
}

/**
 * Parses with a schema; an unknown key is reported by its own name (zod names the enclosing object),
 * and every other issue by its path, so the error names the bad field.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = [...issue.path, issue.keys[0]].join('.');
    throw new InputError(`${field}: unknown ${where === 'query' ? 'query parameter' : 'field'}`, { field, scimType: 'invalidValue' });
  }
  throw result.error;
}

/** A query object: repeated parameters are refused (ambiguous), unknown ones named. */
function queryObject(schema: z.ZodType, query: Record<string, string | string[] | undefined>): Record<string, unknown> {
  const shape = schema instanceof z.ZodObject ? schema.shape : undefined;
  for (const [key, value] of Object.entries(query)) {
    if (shape && !(key in shape)) throw new InputError(`${key}: unknown query parameter`, { field: key });
    if (Array.isArray(value)) throw new InputError(`${key}: given more than once`, { field: key });
  }
  return query;
}

/** A response that does not match the route's documented schema (checked in tests and development). */
export const ResponseSchemaMismatch = defineError('DMN_ADMIN_RESPONSE_UNDOCUMENTED', 500);
/** An admin route declared without a 2xx response. */
const RouteWithoutSuccess = defineError('DMN_ADMIN_ROUTE_INVALID', 500);

/** Every declared admin route, in declaration order; mounts them and checks responses when asked. */
export class AdminRouteRegistry {
  readonly routes: RegisteredAdminRoute[] = [];

  constructor(
    private readonly router: Router,
    private readonly options: {
      validateResponses: boolean;
      /** Checks a JSON response against the generated document (built lazily, after every plugin registered). */
      documentChecker?: () => (method: string, path: string, status: number, body: unknown) => string | undefined;
      /** Resolves organization and connection scopes. */
      db: DataSource;
    },
  ) {
    // Default deny for organization owners: a route mounted on the admin router without `adminRoute`
    // declares no scope, so an owner is refused before it runs (scope.ts).
    router.use(async (ctx, next) => {
      const matched = ((ctx as { matched?: Array<{ path: string; methods: string[] }> }).matched ?? []).filter((layer) => layer.methods.includes(ctx.method));
      if (ownerOrgIds(ctx) !== undefined && matched.some((layer) => !this.declared(ctx.method, layer.path))) {
        throw new OwnerRefused('organization owners cannot use this route: it declares no organization scope');
      }
      return next();
    });
  }

  private declared(method: string, matched: string): boolean {
    const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return this.routes.some((r) => r.definition.method.toUpperCase() === m && `${this.router.opts.prefix ?? ''}${r.definition.path}` === matched);
  }

  add(pluginId: string, definition: RegisteredAdminRoute['definition']): void {
    const key = `${definition.method.toUpperCase()} ${definition.path}`;
    if (this.routes.some((r) => `${r.definition.method.toUpperCase()} ${r.definition.path}` === key)) throw new PluginDeclaredTwice(`admin route ${key} declared twice (by '${pluginId}')`);
    const statuses = Object.keys(definition.responses).map(Number).sort((a, b) => a - b);
    const success = statuses.find((s) => s >= 200 && s < 300);
    if (success === undefined) throw new RouteWithoutSuccess(`admin route ${key} declares no 2xx response`);
    if (!definition.scope) throw new RouteWithoutSuccess(`admin route ${key} declares no scope (by '${pluginId}'): 'deployment', 'filtered', { org }, { connection } or { orgs }`);
    this.routes.push({ pluginId, definition });
    const params = definition.params ?? defaultParamsSchema(definition.path);
    const validate = this.options.validateResponses;
    this.router[definition.method](definition.path, async (ctx) => {
      // The scope is checked before the query and body are read: an owner outside it learns nothing
      // from validation errors.
      const parsedParams = parseInput(params, ctx.params ?? {}, 'params');
      await enforceScope(this.options.db, definition.scope as AdminRouteScope, ctx, { params: parsedParams as Record<string, string> });
      const input = {
        params: parsedParams,
        query: definition.query ? parseInput(definition.query, queryObject(definition.query, ctx.query), 'query') : {},
        body: definition.body ? parseInput(definition.body, ctx.request.body ?? {}, 'body') : {},
      };
      ctx.status = success;
      const result = await definition.handler(ctx, input as never);
      if (result !== undefined) ctx.body = result;
      if (validate) {
        const wire = checkResponse(key, definition.responses, ctx.status, ctx.body, ctx.response.type);
        const problem = wire === NOT_JSON ? undefined : this.options.documentChecker?.()(definition.method, definition.path, ctx.status, wire);
        if (problem) throw new ResponseSchemaMismatch(`${key} ${ctx.status} response does not match the OpenAPI document: ${problem}`);
      }
    });
  }
}

const NOT_JSON = Symbol('not json');

/** Tests: the response must be one the route documents, and match its schema. Returns the JSON the client receives. */
function checkResponse(route: string, responses: Record<number, AdminResponseSpec>, status: number, body: unknown, type: string): unknown {
  const spec = responses[status];
  if (!spec) throw new ResponseSchemaMismatch(`${route} answered ${status}, which it does not document`);
  const isJson = !spec.contentType || spec.contentType === 'application/json';
  if (!isJson || spec.schema === null) {
    if (spec.schema === null && body != null && status !== 204) throw new ResponseSchemaMismatch(`${route} answered ${status} with a body it does not document`);
    if (!isJson && type && !String(spec.contentType).includes(type)) throw new ResponseSchemaMismatch(`${route} answered ${status} as ${type}, documented ${String(spec.contentType)}`);
    return NOT_JSON;
  }
  // What the client receives: dates become strings, undefined keys disappear.
  const wire = body === undefined ? undefined : JSON.parse(JSON.stringify(body));
  const result = spec.schema.safeParse(wire);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ResponseSchemaMismatch(`${route} ${status} response does not match its documented schema: ${issues.join('; ')}`);
  }
  return wire;
}

/**
 * Mounted admin routes (the router's own layers) against documented ones (the OpenAPI document's
 * paths): both lists must be empty. Paths in OpenAPI syntax, e.g. `GET /orgs/{org}`.
 */
export function adminRouteCoverage(router: Router, document: { paths?: Record<string, object> }, prefix: string) {
  const mounted = new Set<string>();
  for (const layer of router.stack) {
    const path = openApiPath(String(layer.path).slice(prefix.length) || '/');
    for (const method of layer.methods) if (method !== 'HEAD') mounted.add(`${method} ${path}`);
  }
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of Object.keys(item)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  return {
    undocumented: [...mounted].filter((r) => !documented.has(r)).sort(),
    unmounted: [...documented].filter((r) => !mounted.has(r)).sort(),
  };
}
