import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, definePlugin, NotFoundError, SYSTEM_ACTOR } from '@doorman/plugin-api';
import { GROUP_SCHEMA, LIST_RESPONSE_SCHEMA, resourceSchemaFor, type ListParams, type ScimResource } from '@doorman/scim';
import { mountScimResourceReads } from '../src/http/scim-resource-routes.ts';
import { startTestGateway, type TestGateway } from '../src/testing/index.ts';

// The shared SCIM list / .search / get-by-id routes (src/http/scim-resource-routes.ts) over an
// in-memory resource type, through the real gateway (authentication, body reader, error middleware).

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const group = (id: string, displayName: string, version: number): ScimResource => ({
  schemas: [GROUP_SCHEMA],
  id,
  displayName,
  externalId: `ext-${id}`,
  meta: { resourceType: 'Group', location: `https://x/scim/v2/Things/${id}`, version: `W/"${version}"` },
});
const THINGS = [group('t1', 'One', 3), group('t2', 'Two', 1), group('t3', 'Three', 7)];
const VERSIONS: Record<string, number> = { t1: 3, t2: 1, t3: 7 };

/** What the plugin's callbacks were asked (the tenant, the parsed parameters, the raw source). */
const seen: { tenant?: string; params?: ListParams; source?: Record<string, unknown>; reads: number; writes: number } = { reads: 0, writes: 0 };

const things = definePlugin({
  id: 'things',
  description: 'an in-memory SCIM resource type on the shared routes',
  deps: { http: coreServices.http },
  register({ http }) {
    http.setScimAuthenticator(async (ctx, next) => {
      ctx.state.auth = { kind: 'scim', connectionId: ctx.get('x-tenant') || 'c1', tokenId: 't' };
      ctx.state.actor = SYSTEM_ACTOR;
      await next();
    });
    const { checked, respond } = mountScimResourceReads(http.scim, {
      path: '/Things',
      schema: resourceSchemaFor('Group'),
      maxPageSize: 2,
      defaultPageSize: 5,
      list: async (ctx, params, source) => {
        Object.assign(seen, { tenant: ctx.state.auth.connectionId, params, source, reads: seen.reads + 1 });
        const page = params.filter === 'displayName eq "Two"' ? THINGS.filter((t) => t.displayName === 'Two') : THINGS;
        return { resources: page.slice(params.startIndex - 1, params.startIndex - 1 + params.count), totalResults: page.length };
      },
      get: async (ctx, id) => {
        seen.reads++;
        // Another tenant's id answers like an unknown one.
        const found = ctx.state.auth.connectionId === 'c1' ? THINGS.find((t) => t.id === id) : undefined;
        if (!found) throw new NotFoundError(`Thing ${id} not found`);
        return { resource: found, version: VERSIONS[id]! };
      },
    });
    http.scim.post('/Things', checked(async (ctx) => {
      seen.writes++;
      respond(ctx, { ...group('t9', String((ctx.request.body as { displayName?: unknown }).displayName), 1) }, { status: 201 });
    }));
  },
});

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [things] });
});
afterAll(async () => t?.close());

interface Case {
  name: string;
  method?: 'get' | 'post';
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  status: number;
  /** Expected body (toEqual), or a subset of it (toMatchObject) when `partial`. */
  expect?: unknown;
  partial?: boolean;
  etag?: string;
  /** Whether the plugin's read ran (a refused request reads nothing). */
  reads?: boolean;
}

const list = (resources: ScimResource[], totalResults: number, startIndex = 1) => ({ schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources });
const scimError = (status: number, scimType?: string) => ({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });

const cases: Case[] = [
  // lists: default count capped to maxPageSize, startIndex, count=0, projection, filter handed through
  { name: 'a list page, count defaulted and capped', path: '/Things', status: 200, expect: list(THINGS.slice(0, 2), 3) },
  { name: 'startIndex and count', path: '/Things?startIndex=2&count=1', status: 200, expect: list([THINGS[1]!], 3, 2) },
  { name: 'startIndex < 1 reads as 1', path: '/Things?startIndex=-4&count=1', status: 200, expect: list([THINGS[0]!], 3) },
  { name: 'count=0: the total alone', path: '/Things?count=0', status: 200, expect: list([], 3) },
  { name: 'attributes project every resource', path: '/Things?attributes=displayName&count=1', status: 200, expect: list([{ schemas: [GROUP_SCHEMA], id: 't1', displayName: 'One' }], 3) },
  { name: 'excludedAttributes trim every resource', path: '/Things?excludedAttributes=externalId,meta&count=1', status: 200, expect: list([{ schemas: [GROUP_SCHEMA], id: 't1', displayName: 'One' }], 3) },
  { name: 'the filter reaches the plugin', path: `/Things?filter=${encodeURIComponent('displayName eq "Two"')}`, status: 200, expect: list([THINGS[1]!], 1) },
  { name: 'a bad count is 400 invalidValue', path: '/Things?count=many', status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
  { name: 'a repeated startIndex is 400 invalidValue', path: '/Things?startIndex=1&startIndex=2', status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
  { name: 'an empty filter is 400 invalidFilter', path: '/Things?filter=%20', status: 400, expect: scimError(400, 'invalidFilter'), partial: true, reads: false },
  { name: 'a value filter in attributes is 400 invalidValue', path: `/Things?attributes=${encodeURIComponent('members[value eq "x"]')}`, status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
  { name: 'a bad sortOrder is 400 invalidValue', path: '/Things?sortOrder=sideways', status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
  // POST .search: the same parameters from a SearchRequest body
  { name: '.search with a SearchRequest', method: 'post', path: '/Things/.search', body: { schemas: [SEARCH], startIndex: 3, count: 5 }, status: 200, expect: list([THINGS[2]!], 3, 3) },
  { name: '.search parameters match case-insensitively', method: 'post', path: '/Things/.search', body: { schemas: [SEARCH], COUNT: 1, Attributes: ['displayName'] }, status: 200, expect: list([{ schemas: [GROUP_SCHEMA], id: 't1', displayName: 'One' }], 3) },
  { name: '.search without the SearchRequest schema is 400 invalidValue', method: 'post', path: '/Things/.search', body: { count: 1 }, status: 400, expect: { ...scimError(400, 'invalidValue'), detail: `schemas must include "${SEARCH}"` }, reads: false },
  { name: '.search with no body is 400 invalidValue', method: 'post', path: '/Things/.search', status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
  // get by id: ETag, If-None-Match, projection, 404
  { name: 'get by id with its ETag', path: '/Things/t1', status: 200, expect: THINGS[0], etag: 'W/"3"' },
  { name: 'get projected', path: '/Things/t3?attributes=displayName', status: 200, expect: { schemas: [GROUP_SCHEMA], id: 't3', displayName: 'Three' }, etag: 'W/"7"' },
  { name: 'If-None-Match naming the version: 304', path: '/Things/t1', headers: { 'If-None-Match': 'W/"3"' }, status: 304, etag: 'W/"3"' },
  { name: 'If-None-Match among several tags: 304', path: '/Things/t1', headers: { 'If-None-Match': 'W/"1", W/"3"' }, status: 304, etag: 'W/"3"' },
  { name: 'If-None-Match *: 304', path: '/Things/t2', headers: { 'If-None-Match': ' * ' }, status: 304, etag: 'W/"1"' },
  { name: 'If-None-Match naming another version: 200', path: '/Things/t1', headers: { 'If-None-Match': 'W/"2"' }, status: 200, expect: THINGS[0], etag: 'W/"3"' },
  { name: 'a strong tag never matches the weak ETag: 200', path: '/Things/t1', headers: { 'If-None-Match': '"3"' }, status: 200, expect: THINGS[0], etag: 'W/"3"' },
  { name: 'an unknown id is 404', path: '/Things/nope', status: 404, expect: { ...scimError(404), detail: 'Thing nope not found' } },
  { name: "another tenant's id is 404 alike", path: '/Things/t1', headers: { 'X-Tenant': 'c2' }, status: 404, expect: { ...scimError(404), detail: 'Thing t1 not found' } },
  { name: 'a bad attributes on a get is 400 before the read', path: `/Things/nope?excludedAttributes=${encodeURIComponent('members[value eq "x"]')}`, status: 400, expect: scimError(400, 'invalidValue'), partial: true, reads: false },
];

describe('shared SCIM resource routes', () => {
  it.each(cases)('$name', async (c) => {
    const reads = seen.reads;
    let req = t.http[c.method ?? 'get'](`/scim/v2${c.path}`).set('Authorization', 'Bearer x');
    for (const [k, v] of Object.entries(c.headers ?? {})) req = req.set(k, v);
    const res = c.body === undefined ? await req : await req.send(c.body as object);
    expect(res.status).toBe(c.status);
    // Errors are the error middleware's (application/scim+json without a charset).
    if (c.status === 304) expect(res.text).toBe('');
    else expect(res.headers['content-type']).toBe(c.status < 400 ? 'application/scim+json; charset=utf-8' : 'application/scim+json');
    if (c.expect !== undefined) {
      if (c.partial) expect(res.body).toMatchObject(c.expect as object);
      else expect(res.body).toEqual(c.expect);
    }
    if (c.etag !== undefined) expect(res.headers.etag).toBe(c.etag);
    if (c.reads !== undefined) expect(seen.reads > reads).toBe(c.reads);
  });

  it('hands the plugin the tenant, the parsed parameters and their source', async () => {
    await t.http.get('/scim/v2/Things?Count=1&excludedAttributes=members').set('Authorization', 'Bearer x').set('X-Tenant', 'c7');
    expect(seen.tenant).toBe('c7');
    expect(seen.params).toMatchObject({ startIndex: 1, count: 1, excludedAttributes: ['members'] });
    expect(seen.source).toEqual({ Count: '1', excludedAttributes: 'members' });
  });

  it('checked: a write with a bad projection is refused before it runs; respond sets status, ETag, projection', async () => {
    const writes = seen.writes;
    const bad = await t.http.post(`/scim/v2/Things?attributes=${encodeURIComponent('displayName[value eq "x"]')}`).set('Authorization', 'Bearer x').send({ displayName: 'N' });
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidValue');
    expect(seen.writes).toBe(writes);
    const ok = await t.http.post('/scim/v2/Things?attributes=displayName').set('Authorization', 'Bearer x').send({ displayName: 'N' });
    expect(ok.status).toBe(201);
    expect(ok.headers.etag).toBe('W/"1"');
    expect(ok.body).toEqual({ schemas: [GROUP_SCHEMA], id: 't9', displayName: 'N' });
    expect(seen.writes).toBe(writes + 1);
  });
});
