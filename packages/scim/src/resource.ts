/**
 * Resource-level helpers: ListResponse, attribute projection, list query parameters, ETags.
 */
import { z } from 'zod';
import { defineError, InputError } from '@doorman/plugin-api';
import { LIST_RESPONSE_SCHEMA, findAttribute, findSubAttribute, type ResourceSchema } from './schemas.ts';
import { parseAttrPath, findKey, isPlainObject, type AttrPath } from './paths.ts';

/** 412: If-Match names a version other than the current one. */
export const VersionMismatch = defineError('DMN_SCIM_VERSION_MISMATCH', 412);

/** A SCIM resource as JSON (`meta` timestamps as RFC 3339 strings). */
export interface ScimResource {
  schemas: string[];
  id?: string;
  meta?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface ListResponse<T> {
  schemas: [typeof LIST_RESPONSE_SCHEMA];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: T[];
}

/**
 * RFC 7644 §3.4.2: `itemsPerPage` is what this page holds, not the requested count (docs/scim-client-pitfalls.md §4).
 * `Resources` is capitalised as in the RFC (Docker's reference spells it `resources`).
 */
export function listResponse<T>(resources: T[], opts: { totalResults: number; startIndex: number }): ListResponse<T> {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: opts.totalResults,
    startIndex: opts.startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

export interface ProjectionParams {
  /** Attribute names, as a list or the raw comma-separated query value. */
  attributes?: readonly string[] | string;
  excludedAttributes?: readonly string[] | string;
}

type Selector = Omit<AttrPath, 'filter'>;

function toList(v: readonly string[] | string | undefined): string[] {
  const items = typeof v === 'string' ? v.split(',') : (v ?? []);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function selectors(names: string[], schema: ResourceSchema, field: string): Selector[] {
  return names.map((n) => {
    const p = parseAttrPath(n, schema, 'invalidValue', field);
    if (p.filter !== undefined) {
      throw new InputError(`"${n}": value filters are not allowed in ${field}`, { scimType: 'invalidValue', field });
    }
    return { urn: p.urn, attr: p.attr, sub: p.sub };
  });
}

/**
 * Checks `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) without a resource: routes call it
 * before they read or write anything, so a bad value is 400 whether or not a resource would be
 * projected (an empty list page, a failed write).
 */
export function checkProjection(params: ProjectionParams, schema: ResourceSchema): void {
  selectors(toList(params.attributes), schema, 'attributes');
  selectors(toList(params.excludedAttributes), schema, 'excludedAttributes');
}

/** Where an attribute lives: the resource itself (core) or its extension object. */
function container(resource: Record<string, unknown>, urn: string | undefined): Record<string, unknown> | undefined {
  if (urn === undefined) return resource;
  const key = findKey(resource, urn);
  const v = key === undefined ? undefined : resource[key];
  return isPlainObject(v) ? v : undefined;
}

function returnedOf(schema: ResourceSchema, urn: string | undefined, attr: string, sub?: string) {
  const def = findAttribute(schema, urn, attr);
  return (sub === undefined ? def : findSubAttribute(def, sub))?.returned ?? 'default';
}

/**
 * RFC 7644 §3.4.2.5. `attributes` replaces the default set; `excludedAttributes` trims it.
 * `id` and `schemas` (and any `returned: always` attribute) are always present; `returned: never`
 * never is. Names are case-insensitive, may be URN-qualified and may name a sub-attribute.
 * Unknown names select nothing (they are not an error: IdPs ask for attributes we don't keep).
 */
export function projectAttributes<T extends Record<string, unknown>>(
  resource: T,
  params: ProjectionParams,
  schema: ResourceSchema,
): Partial<T> & Pick<ScimResource, 'schemas' | 'id'> {
  const wanted = toList(params.attributes);
  const excluded = toList(params.excludedAttributes);
  // The common case (no projection asked, nothing "returned: never" present) returns the input itself,
  // uncopied (callers treat the result as read-only): list pages serialise a hundred resources.
  if (wanted.length === 0 && excluded.length === 0 && !hasNever(resource, schema)) return resource as unknown as Partial<T> & Pick<ScimResource, 'schemas' | 'id'>;
  const src = structuredClone(resource) as Record<string, unknown>;
  const extensionUrns = new Set(schema.extensions.map((e) => e.id.toLowerCase()));
  let out: Record<string, unknown>;

  if (wanted.length > 0) {
    out = {};
    const include = (key: string) => {
      if (key in src) out[key] = src[key];
    };
    include('schemas');
    for (const key of Object.keys(src)) {
      if (!extensionUrns.has(key.toLowerCase()) && returnedOf(schema, undefined, key) === 'always') include(key);
    }
    for (const s of selectors(wanted, schema, 'attributes')) copySelected(src, out, s);
  } else {
    out = src;
    for (const s of selectors(excluded, schema, 'excludedAttributes')) {
      if (s.attr !== undefined && returnedOf(schema, s.urn, s.attr, s.sub) === 'always') continue;
      removeSelected(out, s);
    }
  }
  dropNever(out, schema);
  return out as Partial<T> & Pick<ScimResource, 'schemas' | 'id'>;
}

function copySelected(src: Record<string, unknown>, out: Record<string, unknown>, s: Selector): void {
  const from = container(src, s.urn);
  if (!from) return;
  let to = out;
  if (s.urn !== undefined) {
    const urnKey = findKey(src, s.urn)!;
    if (s.attr === undefined) {
      out[urnKey] = from;
      return;
    }
    to = isPlainObject(out[urnKey]) ? (out[urnKey] as Record<string, unknown>) : (out[urnKey] = {});
  }
  const key = findKey(from, s.attr!);
  if (key === undefined) return;
  const value = from[key];
  if (s.sub === undefined) {
    to[key] = value;
    return;
  }
  const pick = (item: unknown, existing: unknown) => {
    if (!isPlainObject(item)) return existing;
    const subKey = findKey(item, s.sub!);
    const base = isPlainObject(existing) ? existing : {};
    return subKey === undefined ? base : { ...base, [subKey]: item[subKey] };
  };
  if (Array.isArray(value)) {
    const prev = Array.isArray(to[key]) ? (to[key] as unknown[]) : [];
    to[key] = value.map((item, i) => pick(item, prev[i]));
  } else if (isPlainObject(value)) {
    to[key] = pick(value, to[key]);
  }
}

function removeSelected(out: Record<string, unknown>, s: Selector): void {
  if (s.urn !== undefined && s.attr === undefined) {
    const urnKey = findKey(out, s.urn);
    if (urnKey !== undefined) delete out[urnKey];
    return;
  }
  const from = container(out, s.urn);
  const key = from ? findKey(from, s.attr!) : undefined;
  if (!from || key === undefined) return;
  if (s.sub === undefined) {
    delete from[key];
    return;
  }
  const strip = (item: unknown) => {
    if (!isPlainObject(item)) return;
    const subKey = findKey(item, s.sub!);
    if (subKey !== undefined) delete item[subKey];
  };
  const value = from[key];
  if (Array.isArray(value)) value.forEach(strip);
  else strip(value);
}

function hasNever(resource: Record<string, unknown>, schema: ResourceSchema): boolean {
  if (Object.keys(resource).some((key) => returnedOf(schema, undefined, key) === 'never')) return true;
  return schema.extensions.some((ext) => {
    // Most extensions (enterprise, Docker's) define no "returned: never" attribute: nothing to look for.
    if (!ext.attributes.some((a) => a.returned === 'never')) return false;
    const obj = container(resource, ext.id);
    return obj !== undefined && Object.keys(obj).some((key) => returnedOf(schema, ext.id, key) === 'never');
  });
}

function dropNever(out: Record<string, unknown>, schema: ResourceSchema): void {
  for (const key of Object.keys(out)) {
    if (returnedOf(schema, undefined, key) === 'never') delete out[key];
  }
  for (const ext of schema.extensions) {
    const obj = container(out, ext.id);
    if (!obj) continue;
    for (const key of Object.keys(obj)) if (returnedOf(schema, ext.id, key) === 'never') delete obj[key];
  }
}

export interface ListParams {
  /** 1-based. */
  startIndex: number;
  /** Page size after capping; 0 means "only totalResults". */
  count: number;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
  attributes: string[];
  excludedAttributes: string[];
  filter?: string;
}

export interface ListParamOptions {
  /** Largest page we return (ServiceProviderConfig filter.maxResults). */
  maxCount: number;
  /** Page size when `count` is absent; defaults to maxCount. */
  defaultCount?: number;
  /** When given, `attributes` / `excludedAttributes` are checked against it (checkProjection). */
  schema?: ResourceSchema;
}

const PARAM_NAMES = ['startIndex', 'count', 'sortBy', 'sortOrder', 'attributes', 'excludedAttributes', 'filter'] as const;

const integer = z.union([
  z.number().int(),
  z
    .string()
    .trim()
    .regex(/^[+-]?\d{1,15}$/, 'must be an integer')
    .transform(Number),
]);
const nameList = z.union([z.string(), z.array(z.string())]).transform((v) => toList(v));

const listQuerySchema = z.object({
  startIndex: integer.optional(),
  count: integer.optional(),
  sortBy: z.string().trim().min(1, 'must not be empty').optional(),
  sortOrder: z
    .string()
    .trim()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['ascending', 'descending'], { error: 'must be "ascending" or "descending"' }))
    .optional(),
  attributes: nameList.optional(),
  excludedAttributes: nameList.optional(),
  filter: z.string().optional(),
});

/**
 * Parses list query parameters (RFC 7644 §3.4.2), from a query string object or a SearchRequest
 * body (§3.4.3). Parameter names are matched case-insensitively. startIndex < 1 is read as 1 and a
 * negative count as 0 (RFC 7644 §3.4.2.4); count is capped at `maxCount`.
 */
export function parseListParams(query: Record<string, unknown>, opts: ListParamOptions): ListParams {
  const picked: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query ?? {})) {
    const name = PARAM_NAMES.find((n) => n.toLowerCase() === key.toLowerCase());
    if (!name || raw === undefined) continue;
    let value = raw;
    // Repeated query parameters arrive as arrays; only the attribute lists may be lists.
    if (Array.isArray(raw) && name !== 'attributes' && name !== 'excludedAttributes') {
      if (raw.length !== 1) {
        throw new InputError(`Query parameter "${name}" was given more than once`, { scimType: 'invalidValue', field: name });
      }
      value = raw[0];
    }
    picked[name] = value;
  }
  const parsed = listQuerySchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? 'query');
    throw new InputError(`Invalid "${field}": ${issue.message}`, { scimType: 'invalidValue', field });
  }
  const q = parsed.data;
  if (q.filter !== undefined && q.filter.trim() === '') {
    throw new InputError('The filter is empty', { scimType: 'invalidFilter', field: 'filter' });
  }
  if (opts.schema) checkProjection({ attributes: q.attributes, excludedAttributes: q.excludedAttributes }, opts.schema);
  const maxCount = Math.max(0, Math.floor(opts.maxCount));
  const requested = q.count ?? opts.defaultCount ?? maxCount;
  return {
    startIndex: Math.max(1, q.startIndex ?? 1),
    count: Math.min(Math.max(0, requested), maxCount),
    ...(q.sortBy !== undefined ? { sortBy: q.sortBy } : {}),
    ...(q.sortOrder !== undefined ? { sortOrder: q.sortOrder } : {}),
    attributes: q.attributes ?? [],
    excludedAttributes: q.excludedAttributes ?? [],
    ...(q.filter !== undefined ? { filter: q.filter } : {}),
  };
}

/** Weak ETag for a resource version (RFC 7644 §3.14): `W/"<version>"`. */
export function etagFor(version: number): string {
  if (!Number.isSafeInteger(version) || version < 0) throw new TypeError(`Invalid resource version ${version}`);
  return `W/"${version}"`;
}

/**
 * Reads an If-Match header: undefined when absent, '*' for any, else the versions of the
 * entity-tags we issued. Tags that are not ours are dropped: they can never match.
 */
export function parseIfMatch(header: string | readonly string[] | undefined): '*' | number[] | undefined {
  const text = Array.isArray(header) ? header.join(',') : (header as string | undefined);
  if (text === undefined || text.trim() === '') return undefined;
  if (text.trim() === '*') return '*';
  const versions: number[] = [];
  for (const tag of text.split(',')) {
    const m = /^(?:W\/)?"(\d{1,15})"$/.exec(tag.trim());
    if (m) versions.push(Number(m[1]));
  }
  return versions;
}

/** True when the request may proceed: no If-Match, `*`, or a tag naming the current version. */
export function ifMatchSatisfied(header: string | readonly string[] | undefined, version: number): boolean {
  const parsed = parseIfMatch(header);
  return parsed === undefined || parsed === '*' || parsed.includes(version);
}

/** Throws 412 when If-Match names other versions (RFC 7644 §3.14, RFC 7232 §3.1). */
export function assertIfMatch(header: string | readonly string[] | undefined, version: number): void {
  if (!ifMatchSatisfied(header, version)) {
    throw new VersionMismatch(`The resource has changed (current version ${etagFor(version)})`, {
      field: 'If-Match',
    });
  }
}
