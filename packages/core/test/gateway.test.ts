import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConflictError, defineError, InputError } from '@doorman/plugin-api';

const Wedged = defineError('DMN_EXAMPLE_WEDGED', 500);
import { coreServices, createServiceRef, definePlugin, optionalRef } from '@doorman/plugin-api';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../src/testing/index.ts';

let release: () => void = () => {};
const probe = definePlugin({
  id: 'probe',
  description: 'routes exercising the shared middleware',
  deps: { http: coreServices.http },
  register({ http }) {
    http.setScimAuthenticator(async (ctx, next) => {
      if (ctx.get('authorization') !== 'Bearer scim-ok') throw new InputError('nope');
      await next();
    });
    http.scim.get('/Things/:id', (ctx) => {
      if (ctx.params.id === 'dup') throw new ConflictError('already there', { scimType: 'uniqueness' });
      ctx.body = { id: ctx.params.id };
    });
    http.scim.post('/Things', (ctx) => {
      ctx.status = 201;
      ctx.body = ctx.request.body;
    });
    http.admin.post('/things', (ctx) => {
      ctx.body = z.object({ name: z.string().min(1) }).strict().parse(ctx.request.body);
    });
    http.public.get('/slow', async (ctx) => {
      await new Promise<void>((r) => (release = r));
      ctx.body = 'done';
    });
    http.public.get('/logs-something', (ctx) => {
      ctx.state.logger.info({ step: 'handler' }, 'handler says hello');
      ctx.body = 'ok';
    });
    http.public.get('/boom', () => {
      throw new Error('secret internals');
    });
    http.public.get('/boom-coded', () => {
      throw new Wedged('wedged at secret step');
    });
  },
});

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [probe] });
});
afterAll(async () => t?.close());

describe('gateway HTTP surface', () => {
  it('answers health, readiness (database and Redis) and metrics', async () => {
    expect((await t.http.get('/healthz')).status).toBe(200);
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' });
    const metrics = await t.http.get('/metrics');
    expect(metrics.text).toMatch(/doorman_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1/);
  });

  it('gives every response a request id, and keeps a sane incoming one', async () => {
    const a = await t.http.get('/healthz');
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const b = await t.http.get('/healthz').set('X-Request-Id', 'abc-123');
    expect(b.headers['x-request-id']).toBe('abc-123');
  });

  it('writes one access line per request, and binds the request id to what handlers log', async () => {
    const lines = () => t.logs.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    await t.http.get('/healthz').set('X-Request-Id', 'quiet-1');
    await t.http.get('/logs-something').set('X-Request-Id', 'chatty-1');
    const access = (id: string) => lines().filter((l) => l.msg === 'request' && l.requestId === id);
    expect(access('quiet-1')).toEqual([expect.objectContaining({ method: 'GET', path: '/healthz', route: '/healthz', status: 200 })]);
    expect(access('chatty-1')).toEqual([expect.objectContaining({ path: '/logs-something', status: 200 })]);
    expect(lines().filter((l) => l.msg === 'handler says hello')).toEqual([expect.objectContaining({ requestId: 'chatty-1', step: 'handler' })]);
  });

  it('renders SCIM errors as RFC 7644 JSON', async () => {
    const res = await t.http.get('/scim/v2/Things/dup').set('Authorization', 'Bearer scim-ok');
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
    expect(res.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness', detail: 'already there' });
    // The body stays RFC 7644; the code travels in a header.
    expect(res.headers['doorman-error-code']).toBe('DMN_CONFLICT');
  });

  it('answers 400 invalidSyntax on malformed JSON, 413 over the body limit, 405 on unsupported methods', async () => {
    const bad = await t.http.post('/scim/v2/Things').set('Authorization', 'Bearer scim-ok').set('Content-Type', 'application/scim+json').send('{"userName": ');
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidSyntax');
    const ok = await t.http.post('/scim/v2/Things').set('Authorization', 'Bearer scim-ok').set('Content-Type', 'application/scim+json').send('{"a":1}');
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ a: 1 });
    const big = await t.http.post('/scim/v2/Things').set('Authorization', 'Bearer scim-ok').set('Content-Type', 'application/json').send(JSON.stringify({ a: 'x'.repeat(1_100_000) }));
    expect(big.status).toBe(413);
    expect(big.body.status).toBe('413');
    const put = await t.http.put('/scim/v2/Things/1').set('Authorization', 'Bearer scim-ok');
    expect(put.status).toBe(405);
    expect(put.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
  });

  it('requires an admin token on /admin and names the bad field on admin routes', async () => {
    const none = await t.http.post('/admin/v1/things').send({ name: 'x' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.error.code).toBe('DMN_UNAUTHENTICATED');
    const wrong = await t.http.post('/admin/v1/things').set('Authorization', 'Bearer wrong-token').send({ name: 'x' });
    expect(wrong.status).toBe(401);
    const bad = await t.admin('post', '/admin/v1/things').send({ name: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'DMN_INPUT_INVALID', field: 'name' });
    const good = await t.admin('post', '/admin/v1/things').send({ name: 'x' });
    expect(good.status).toBe(200);
    // A browser (the job dashboard) authenticates with Basic: any user name, the admin token as password.
    const basic = Buffer.from(`operator:${TEST_ADMIN_TOKEN}`).toString('base64');
    expect((await t.http.post('/admin/v1/things').set('Authorization', `Basic ${basic}`).send({ name: 'x' })).status).toBe(200);
    const wrongBasic = Buffer.from('operator:nope').toString('base64');
    expect((await t.http.post('/admin/v1/things').set('Authorization', `Basic ${wrongBasic}`).send({ name: 'x' })).status).toBe(401);
  });

  it('answers 500 without internals, and logs neither tokens nor the error to the client', async () => {
    const res = await t.http.get('/boom');
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('secret internals');
    expect(res.body.error).toEqual({ code: 'DMN_INTERNAL', message: 'internal error' });
    await t.admin('get', '/admin/v1/things');
    expect(t.logs.join('\n')).not.toContain(TEST_ADMIN_TOKEN);
  });
});

describe('error codes', () => {
  it('puts the code in the admin body, the header, the error log line and the access log line', async () => {
    const lines = () => t.logs.flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const bad = await t.admin('post', '/admin/v1/things').set('X-Request-Id', 'coded-1').send({ name: '' });
    expect(bad.headers['doorman-error-code']).toBe('DMN_INPUT_INVALID');
    expect(lines().filter((l) => l.msg === 'request' && l.requestId === 'coded-1')).toEqual([expect.objectContaining({ status: 400, code: 'DMN_INPUT_INVALID' })]);
    const ok = await t.http.get('/healthz').set('X-Request-Id', 'coded-2');
    expect(ok.headers['doorman-error-code']).toBeUndefined();
    expect(lines().find((l) => l.msg === 'request' && l.requestId === 'coded-2')).not.toHaveProperty('code');

    // A RuntimeError is the gateway's own failure: 500, its code, no message.
    const wedged = await t.http.get('/boom-coded').set('X-Request-Id', 'coded-3');
    expect(wedged.status).toBe(500);
    expect(wedged.body.error).toEqual({ code: 'DMN_EXAMPLE_WEDGED', message: 'internal error' });
    expect(wedged.headers['doorman-error-code']).toBe('DMN_EXAMPLE_WEDGED');
    const mine = lines().filter((l) => l.requestId === 'coded-3');
    expect(mine).toEqual([
      expect.objectContaining({ msg: 'unhandled error', code: 'DMN_EXAMPLE_WEDGED' }),
      expect.objectContaining({ msg: 'request', status: 500, code: 'DMN_EXAMPLE_WEDGED' }),
    ]);
  });
});

describe('graceful shutdown', () => {
  it('finishes the in-flight request, then closes', async () => {
    const g = await startTestGateway({ plugins: [probe] });
    const server = await g.gateway.listen();
    const port = (server.address() as { port: number }).port;
    const inflight = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => ({ status: r.status, text: await r.text() }));
    await new Promise((r) => setTimeout(r, 100));
    const closed = g.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    release();
    expect(await inflight).toEqual({ status: 200, text: 'done' });
    await closed;
    expect(server.listening).toBe(false);
    expect(g.gateway.db.isInitialized).toBe(false);
  });
});

describe('plugin dependencies', () => {
  const hello = createServiceRef<{ hello(): string }>('test.hello');
  const consumer = definePlugin({
    id: 'hello-consumer',
    description: 'needs hello',
    deps: { hello, optionalHello: optionalRef(hello), logger: coreServices.logger },
    register({ hello: service, optionalHello }) {
      consumed.push(service.hello(), optionalHello()?.hello() ?? 'none');
    },
  });
  const consumed: string[] = [];

  it('injects a provided service, typed, and an optional one as a lookup', async () => {
    const provider = definePlugin({
      id: 'hello-provider',
      description: 'provides hello',
      provides: [hello],
      deps: { provider: coreServices.provider },
      register: ({ provider: p }) => p.provide(hello, { hello: () => 'hi' }),
    });
    const g = await startTestGateway({ plugins: [consumer, provider], redis: false });
    await g.close();
    expect(consumed).toEqual(['hi', 'hi']);
  });

  it('stops start-up when a declared provider did not provide the ref (DMN_PLUGIN_DEPENDENCY_MISSING)', async () => {
    const silent = definePlugin({ id: 'hello-provider', description: 'declares hello, provides nothing', provides: [hello], register() {} });
    await expect(startTestGateway({ plugins: [consumer, silent], redis: false })).rejects.toMatchObject({
      code: 'DMN_PLUGIN_DEPENDENCY_MISSING',
      plugin: 'hello-consumer',
      ref: 'test.hello',
    });
  });

  it('refuses to provide a ref the plugin did not declare in provides', async () => {
    const sneaky = definePlugin({
      id: 'sneaky',
      description: 'provides without declaring',
      deps: { provider: coreServices.provider },
      register: ({ provider: p }) => p.provide(hello, { hello: () => 'boo' }),
    });
    await expect(startTestGateway({ plugins: [sneaky], redis: false })).rejects.toThrow("plugin 'sneaky' provides service 'test.hello' without declaring it in 'provides'");
  });
});
