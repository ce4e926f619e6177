/**
 * The request-level rules every SCIM resource type's routes share (pure): a SearchRequest body
 * (RFC 7644 §3.4.3) read as list parameters, and If-None-Match on a GET (RFC 7644 §3.14). The
 * routes themselves (Koa) are @doorman/core's `mountScimResourceReads`.
 */
import { InputError } from '@doorman/plugin-api';
import { SEARCH_REQUEST_SCHEMA } from './schema-types.ts';
import { etagFor } from './resource.ts';

/**
 * The list parameters of a `POST /<Resource>/.search` body: everything but `schemas`, which must
 * include the SearchRequest URN (else 400 invalidValue). A missing body reads as `{}`.
 */
export function searchRequestParams(body: unknown): Record<string, unknown> {
  const request = (body ?? {}) as Record<string, unknown>;
  if (!Array.isArray(request.schemas) || !request.schemas.includes(SEARCH_REQUEST_SCHEMA)) {
    throw new InputError(`schemas must include "${SEARCH_REQUEST_SCHEMA}"`, { scimType: 'invalidValue', field: 'schemas' });
  }
  const { schemas: _schemas, ...params } = request;
  void _schemas;
  return params;
}

/**
 * True when an If-None-Match header names the current version (`*`, or one of its comma-separated
 * tags equals `etagFor(version)` exactly): the GET answers 304 with the ETag and no body.
 */
export function ifNoneMatchHit(header: string | undefined, version: number): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const current = etagFor(version);
  return header.split(',').some((tag) => tag.trim() === current);
}
