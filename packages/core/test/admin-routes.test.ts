import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminRouteCoverage, ADMIN_API_PREFIX, coreServices, definePlugin } from '../src/index.ts';
import { startTestGateway, type TestGateway } from '../src/testing/index.ts';

const thing = z.object({ id: z.string(), name: z.string(), size: z.number().int().nullable() });
let answer: unknown = undefined;

const declared = definePlugin({
  id: 'things',
  description: 'routes declared through adminRoute',
  deps: { http: coreServices.http },
  register({ http }) {
    http.adminRoute({
      method: 'post',
      path: '/things',
      scope: 'deployment',
      summary: 'Create a thing',
      body: z.object({ name: z.string().min(1), size: z.number().int().optional() }).strict(),
      responses: { 201: { description: 'created', schema: thing } },
      handler: (_ctx, { body }) => ({ id: 't1', name: body.name, size: body.size ?? null }),
    });
    http.adminRoute({
      method: 'get',
      path: '/things/:thingId',
      scope: 'deployment',
      summary: 'Show a thing',
      query: z.object({ verbose: z.enum(['true', 'false']).optional() }),
      responses: { 200: { description: 'the thing', schema: thing } },
      handler: (_ctx, { params }) => answer ?? { id: params.thingId, name: 'x', size: 1 },
    });
    http.adminRoute({
      method: 'delete',
      path: '/things/:thingId',
      scope: 'deployment',
      summary: 'Delete a thing',
      responses: { 204: { description: 'deleted', schema: null } },
      handler: () => undefined,
    });
  },
});

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [declared], redis: false });
});
afterAll(async () => t?.close());

describe('admin routes declared with adminRoute', () => {
  it('validate the request with their schemas and name the bad field', async () => {
    const ok = await t.admin('post', '/admin/v1/things').send({ name: 'a', size: 3 });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ id: 't1', name: 'a', size: 3 });
    const unknown = await t.admin('post', '/admin/v1/things').send({ name: 'a', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ field: 'colour', message: 'colour: unknown field' });
    const bad = await t.admin('post', '/admin/v1/things').send({ name: 'a', size: 1.5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('size');
    const query = await t.admin('get', '/admin/v1/things/t1?colour=red');
    expect(query.status).toBe(400);
    expect(query.body.error).toMatchObject({ field: 'colour', message: 'colour: unknown query parameter' });
    const twice = await t.admin('get', '/admin/v1/things/t1?verbose=true&verbose=false');
    expect(twice.body.error).toMatchObject({ field: 'verbose' });
    expect((await t.admin('delete', '/admin/v1/things/t1')).status).toBe(204);
  });

  it('are described in the OpenAPI 3.1 document, tagged with their plugin', async () => {
    const res = await t.admin('get', '/admin/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: '/admin/v1' }]);
    const create = doc.paths['/things'].post;
    expect(create.tags).toEqual(['things']);
    expect(create.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string', minLength: 1 }, size: { type: 'integer' } },
      required: ['name'],
      additionalProperties: false,
    });
    expect(create.responses['201'].content['application/json'].schema.required).toEqual(['id', 'name', 'size']);
    expect(create.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    const show = doc.paths['/things/{thingId}'].get;
    expect(show.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'thingId', required: true }),
        expect.objectContaining({ in: 'query', name: 'verbose' }),
      ]),
    );
    expect(doc.paths['/things/{thingId}'].delete.responses['204']).toEqual({ description: 'deleted' });
    expect(doc.paths['/openapi.json'].get.tags).toEqual(['core']);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('needs the admin token for the document too', async () => {
    expect((await t.http.get('/admin/v1/openapi.json')).status).toBe(401);
  });

  it('fail a test (500) when a response does not match its documented schema', async () => {
    answer = { id: 't1', name: 'x', size: 'big' };
    try {
      const res = await t.admin('get', '/admin/v1/things/t1');
      expect(res.status).toBe(500);
      expect(t.logs.join('\n')).toMatch(/GET \/things\/:thingId 200 response does not match its documented schema: size/);
      // An undocumented extra field passes zod but not the document (additionalProperties: false).
      answer = { id: 't1', name: 'x', size: 1, secret: 'leak' };
      const extra = await t.admin('get', '/admin/v1/things/t1');
      expect(extra.status).toBe(500);
      expect(t.logs.join('\n')).toMatch(/does not match the OpenAPI document: response must NOT have additional properties/);
    } finally {
      answer = undefined;
    }
  });

  it('coverage: every mounted admin route is documented and every documented one mounted', async () => {
    const coverage = adminRouteCoverage(t.gateway.http.admin, t.gateway.openApiDocument(), ADMIN_API_PREFIX);
    expect(coverage).toEqual({ undocumented: [], unmounted: [] });
    // A route mounted on the router directly is caught.
    const doc = t.gateway.openApiDocument();
    const withRaw = adminRouteCoverage(t.gateway.http.admin, { paths: { ...doc.paths, '/ghost': { get: {} } } }, ADMIN_API_PREFIX);
    expect(withRaw.unmounted).toEqual(['GET /ghost']);
    const { paths: _drop, ...rest } = doc;
    void _drop;
    expect(adminRouteCoverage(t.gateway.http.admin, { ...rest, paths: {} }, ADMIN_API_PREFIX).undocumented).toContain('POST /things');
  });

  it('serves the reference page and its renderer locally, behind admin auth, with a same-origin CSP', async () => {
    expect((await t.http.get('/admin/docs')).status).toBe(401);
    const page = await t.admin('get', '/admin/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script src="/admin/docs/scalar.js">');
    expect(page.text).not.toMatch(/https?:\/\//);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const init = await t.admin('get', '/admin/docs/init.js');
    expect(init.text).toContain('"url":"/admin/v1/openapi.json"');
    expect(init.text).toContain('"withDefaultFonts":false');
    const bundle = await t.admin('get', '/admin/docs/scalar.js').buffer(true).parse((res, cb) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => cb(null, n));
    });
    expect(bundle.status).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.body).toBeGreaterThan(100_000);
    expect((await t.admin('get', '/admin/docs/nothing')).status).toBe(404);
  });
});
