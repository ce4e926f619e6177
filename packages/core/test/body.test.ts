import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError } from '@doorman/plugin-api';
import { parseJsonBody, RequestBodyError } from '../src/http/body.ts';
import { coreServices, definePlugin } from '@doorman/plugin-api';
import { BODY_MARKER, malformedBodies, sendRaw, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../src/testing/index.ts';

const limits = { maxDepth: 8, maxValues: 50 };
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('parseJsonBody (pure)', () => {
  it.each([
    ['empty body', '', {}],
    ['whitespace', ' \n', {}],
    ['object', '{"a":1}', { a: 1 }],
    ['array', '[1,2]', [1, 2]],
    ['depth at the maximum', nested(8), JSON.parse(nested(8))],
    ['brackets inside strings do not count', `{"a":"${'['.repeat(100)}"}`, { a: '['.repeat(100) }],
    ['escaped quotes inside strings', '{"a":"x\\"[[[[[[[[[[["}', { a: 'x"[[[[[[[[[[[' }],
    ['keys that only contain a reserved word', '{"my_constructor":1,"prototypes":2}', { my_constructor: 1, prototypes: 2 }],
  ])('accepts %s', (_name, text, expected) => {
    expect(parseJsonBody(text, limits)).toEqual(expected);
  });

  it.each([
    ['__proto__ at the top', '{"__proto__":{"admin":true}}', 'DMN_BODY_FORBIDDEN_KEY'],
    ['constructor nested', '{"a":{"b":[{"constructor":{"prototype":{}}}]}}', 'DMN_BODY_FORBIDDEN_KEY'],
    ['prototype', '{"prototype":1}', 'DMN_BODY_FORBIDDEN_KEY'],
    ['__PROTO__ in another case', '{"x":{"__PROTO__":1}}', 'DMN_BODY_FORBIDDEN_KEY'],
    ['one level too deep', nested(9), 'DMN_BODY_TOO_DEEP'],
    ['thousands of levels', nested(5000), 'DMN_BODY_TOO_DEEP'],
    ['thousands of unclosed levels', '{"a":'.repeat(5000), 'DMN_BODY_TOO_DEEP'],
    ['too many values', JSON.stringify(Array.from({ length: 51 }, (_, i) => i)), 'DMN_BODY_TOO_MANY_VALUES'],
    ['too many members', JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, [1]]))), 'DMN_BODY_TOO_MANY_VALUES'],
    ['a scalar', '"hello"', 'DMN_BODY_NOT_JSON'],
    ['a number', '42', 'DMN_BODY_NOT_JSON'],
    ['truncated', '{"a":', 'DMN_BODY_NOT_JSON'],
    ['garbage', '{userName: jdoe}', 'DMN_BODY_NOT_JSON'],
  ])('refuses %s', (_name, text, code) => {
    let thrown: unknown;
    try {
      parseJsonBody(text, limits);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RequestBodyError);
    expect((thrown as RequestBodyError).code).toBe(code);
    expect((thrown as RequestBodyError).status).toBe(400);
    expect((thrown as RequestBodyError).scimType).toBe('invalidSyntax');
  });

  it('never quotes the body in its message', () => {
    for (const text of ['{"secret-pii-value": oops}', '{"a":"secret-pii-value"', 'secret-pii-value']) {
      expect(() => parseJsonBody(text, limits)).toThrow(RequestBodyError);
      try {
        parseJsonBody(text, limits);
      } catch (err) {
        expect((err as Error).message).not.toContain('secret-pii-value');
      }
    }
  });
});

let received: unknown[] = [];
const probe = definePlugin({
  id: 'probe',
  description: 'routes that record the bodies they receive',
  deps: { http: coreServices.http },
  register({ http }) {
    http.setScimAuthenticator(async (ctx, next) => {
      if (ctx.get('authorization') !== 'Bearer scim-ok') throw new InputError('nope');
      await next();
    });
    http.scim.post('/Things', (ctx) => {
      received.push(ctx.request.body);
      ctx.status = 201;
      ctx.body = ctx.request.body;
    });
    http.admin.post('/things', (ctx) => {
      received.push(ctx.request.body);
      ctx.body = z.object({ name: z.string() }).parse(ctx.request.body);
    });
  },
});

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [probe], redis: false, gateway: { bodyMaxDepth: 16, bodyMaxValues: 1000, bodyLimitBytes: 16384 } });
});
afterAll(async () => t?.close());

const MARK = BODY_MARKER;
const json = (o: unknown) => Buffer.from(JSON.stringify(o));
const cases = malformedBodies(16384, 1000);

describe('JSON bodies on the gateway', () => {
  it('accepts a gzip-encoded body', async () => {
    const res = await t.http.post('/admin/v1/things').set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').serialize((b: unknown) => b as string).send(gzipSync(json({ name: 'zipped' })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'zipped' });
  });

  describe.each(cases)('$name', ({ body, headers, status, code }) => {
    const send = (path: string, auth?: string) => {
      const req = t.http.post(path).set('Content-Type', path.startsWith('/scim') ? 'application/scim+json' : 'application/json');
      return sendRaw(auth ? req.set('Authorization', auth) : req, body, headers);
    };
    it('is refused on an admin route with the admin error body, and never logged', async () => {
      received = [];
      const from = t.logs.length;
      const res = await send('/admin/v1/things', `Bearer ${TEST_ADMIN_TOKEN}`);
      expect(res.status).toBe(status);
      expect(res.body.error).toMatchObject({ code });
      expect(received).toEqual([]);
      const logged = t.logs.slice(from).join('');
      expect(logged).not.toContain(MARK);
      expect(logged).toContain(`"reason":"${code}"`);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
    it('is refused on a SCIM route as RFC 7644 error JSON', async () => {
      received = [];
      const from = t.logs.length;
      const res = await send('/scim/v2/Things', 'Bearer scim-ok');
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/scim\+json/);
      expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) });
      if (status === 400) expect(res.body.scimType).toBe('invalidSyntax');
      expect(received).toEqual([]);
      expect(t.logs.slice(from).join('')).not.toContain(MARK);
    });
    it('is not even read without credentials (401)', async () => {
      const from = t.logs.length;
      expect((await send('/admin/v1/things')).status).toBe(401);
      expect((await send('/scim/v2/Things')).status).toBe(400); // the probe's authenticator refuses with 400
      const logged = t.logs.slice(from).join('');
      expect(logged).not.toContain(MARK);
      expect(logged).not.toContain('request body refused');
    });
  });
});
