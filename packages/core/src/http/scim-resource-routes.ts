/**
 * The routes every SCIM resource type serves alike (RFC 7644 §3.4), mounted once for Users
 * (scim-users) and Groups (scim-groups): the list (`GET /<Resource>` with filter, startIndex,
 * count, sortBy, attributes, excludedAttributes, and `POST /<Resource>/.search`) and the get by id
 * with its ETag and If-None-Match (304). The plugin supplies the reads over its own tables; this
 * layer owns the protocol around them, so both resource types answer alike (docs/architecture.md
 * "A SCIM request's path"). Errors are thrown as the contract's errors; the error middleware
 * renders them as SCIM error JSON.
 */
import type Router from '@koa/router';
import {
  checkProjection,
  etagFor,
  ifNoneMatchHit,
  listResponse,
  parseListParams,
  projectAttributes,
  searchRequestParams,
  type ListParams,
  type ResourceSchema,
  type ScimResource,
} from '@doorman/scim';
import type { ScimRequestState, ScimRouteContext } from '../plugin.ts';

/** The media type of every SCIM response body (RFC 7644 §3.1). */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export interface ScimPage {
  resources: ScimResource[];
  totalResults: number;
}

export interface ScimResourceReads {
  /** The collection's path under `/scim/v2`, e.g. `/Users`. */
  path: string;
  /** The resource's schemas: projection and list parameters are checked against them. */
  schema: ResourceSchema;
  /** Largest page (count is capped to it). */
  maxPageSize: number;
  /** Page size when the request gives no count (capped to maxPageSize). */
  defaultPageSize: number;
  /** A page of the tenant's resources; `source` is the query or SearchRequest body `params` came from. */
  list(ctx: ScimRouteContext, params: ListParams, source: Record<string, unknown>): Promise<ScimPage>;
  /** One resource of the tenant and its version (a NotFoundError when the tenant has none by that id). */
  get(ctx: ScimRouteContext, id: string): Promise<{ resource: ScimResource; version: number }>;
}

type ScimHandler = (ctx: ScimRouteContext) => Promise<void>;

export interface ScimResourceResponder {
  /** A bad `attributes` / `excludedAttributes` is refused (400) before the handler reads or writes anything. */
  checked(handler: ScimHandler): ScimHandler;
  /** Answers one resource, projected by the request's `attributes` / `excludedAttributes`; ETag `etag` (default: its `meta.version`). */
  respond(ctx: ScimRouteContext, resource: ScimResource, options?: { status?: number; etag?: string }): void;
}

/**
 * Mounts `GET <path>`, `POST <path>/.search` and `GET <path>/:id` on the SCIM router and returns
 * what the plugin's write routes answer with.
 */
export function mountScimResourceReads(router: Router<ScimRequestState>, reads: ScimResourceReads): ScimResourceResponder {
  const { path, schema } = reads;
  const listOptions = { maxCount: reads.maxPageSize, defaultCount: Math.min(reads.defaultPageSize, reads.maxPageSize), schema };

  const checked = (handler: ScimHandler): ScimHandler => async (ctx) => {
    checkProjection(ctx.query, schema);
    await handler(ctx);
  };
  const respond: ScimResourceResponder['respond'] = (ctx, resource, options = {}) => {
    ctx.status = options.status ?? 200;
    ctx.type = SCIM_CONTENT_TYPE;
    ctx.set('ETag', options.etag ?? String(resource.meta?.version));
    ctx.body = projectAttributes(resource, { attributes: ctx.query.attributes, excludedAttributes: ctx.query.excludedAttributes }, schema);
  };

  const list = async (ctx: ScimRouteContext, source: Record<string, unknown>) => {
    const params = parseListParams(source, listOptions);
    const { resources, totalResults } = await reads.list(ctx, params, source);
    ctx.type = SCIM_CONTENT_TYPE;
    ctx.body = listResponse(
      resources.map((resource) => projectAttributes(resource, params, schema)),
      { totalResults, startIndex: params.startIndex },
    );
  };
  router.get(path, (ctx) => list(ctx, ctx.query));
  router.post(`${path}/.search`, (ctx) => list(ctx, searchRequestParams(ctx.request.body)));

  router.get(`${path}/:id`, checked(async (ctx) => {
    const { resource, version } = await reads.get(ctx, ctx.params.id!);
    const etag = etagFor(version);
    if (ifNoneMatchHit(ctx.get('if-none-match'), version)) {
      ctx.status = 304;
      ctx.set('ETag', etag);
      return;
    }
    respond(ctx, resource, { etag });
  }));
  return { checked, respond };
}
