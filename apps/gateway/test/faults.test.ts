import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import supertest from 'supertest';
import { buildGateway, parseGatewayConfig, type Gateway } from '@doorman/core';
import { startPrivateMariadb, startPrivateRedis, type PrivateServer } from '@doorman/core/testing/servers';
import { BUILTIN_PLUGINS, PLUGIN_CATALOG } from '../src/catalog.ts';
import { createScimTenant, PATCH_OP, USER_SCHEMA as USER } from './scim-tenant.ts';

/**
 * Dependency faults against PRIVATE servers (README "Failure behaviour"): a paused (hung) Redis and a
 * killed MariaDB. The machine's shared MariaDB and Redis are never touched.
 */
const ADMIN = 'faults-test-admin-token-0123456789abcdef0123456789';

let mariadb: PrivateServer;
let redis: PrivateServer;
let gateway: Gateway;
let http: ReturnType<typeof supertest>;
let token: string;
const userIds: string[] = [];
const logs: string[] = [];

const scim = (method: 'get' | 'post' | 'patch', path: string, bearer = token) =>
  http[method](`/scim/v2${path}`).set('Authorization', `Bearer ${bearer}`).set('Content-Type', 'application/scim+json');
const deactivate = (id: string, active = false) => scim('patch', `/Users/${id}`).send({ schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });

beforeAll(async () => {
  [mariadb, redis] = await Promise.all([startPrivateMariadb({ bufferPoolMb: 32 }), startPrivateRedis()]);
  const { config, problems } = parseGatewayConfig({
    databaseUrl: mariadb.url,
    redisUrl: redis.url,
    plugins: 'token-auth,role-mapping,scim-users',
    adminBootstrapToken: ADMIN,
    logLevel: 'info',
    port: 0,
  });
  if (!config) throw new Error(problems.join('; '));
  const { default: pino } = await import('pino');
  const { Writable } = await import('node:stream');
  const sink = new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) });
  gateway = await buildGateway({ config, catalog: PLUGIN_CATALOG, builtins: BUILTIN_PLUGINS, logger: pino({ level: 'info' }, sink) });
  http = supertest(gateway.app.callback());
  ({ token } = await createScimTenant(http, ADMIN, 'faults'));
  for (let i = 0; i < 6; i++) {
    const res = await scim('post', '/Users').send({ schemas: [USER], userName: `u${i}@faults.test`, emails: [{ value: `u${i}@faults.test`, primary: true }], active: true });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    userIds.push(res.body.id);
  }
}, 120_000);

afterAll(async () => {
  redis?.resume();
  await gateway?.close();
  await Promise.all([mariadb?.stop(), redis?.stop()]);
});

describe('a hung Redis (SIGSTOP)', () => {
  it('never stalls SCIM requests, good token or bad, and /readyz answers 503 while it stays paused', async () => {
    redis.pause();
    try {
      const started = Date.now();
      const ready = await http.get('/readyz');
      const readyMs = Date.now() - started;
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ database: 'ok', redis: expect.stringMatching(/unreachable/) });
      expect(readyMs).toBeLessThan(1_000);
      // Rate-limit leases and brute-force counts fail open to in-process limits (with a metric).
      const results = await Promise.all([
        deactivate(userIds[0]!),
        scim('get', `/Users/${userIds[1]}`),
        scim('get', '/Users?count=2'),
        scim('get', '/Users', `dmn_scim_${'x'.repeat(40)}`),
        scim('get', '/Users', 'not-a-doorman-token'),
      ]);
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 401, 401]);
      // All answered while Redis was still paused (it is resumed only below).
      expect(Date.now() - started).toBeLessThan(10_000);
      const metrics = await http.get('/metrics');
      expect(metrics.text).toMatch(/doorman_rate_limiter_fail_open_total\{limiter="(tenant|auth_failures)"\} [1-9]/);
    } finally {
      redis.resume();
    }
    await expect.poll(async () => (await http.get('/readyz')).status, { timeout: 10_000 }).toBe(200);
  });
});

describe('a database outage (mariadbd SIGKILL, then restart)', () => {
  it('answers 503 with Retry-After, never 500, and serves again once the database is back, without a restart', async () => {
    await mariadb.kill();
    const answers = [
      await deactivate(userIds[2]!),
      await scim('post', '/Users').send({ schemas: [USER], userName: 'new@faults.test', active: true }),
      await scim('get', '/Users?filter=userName%20eq%20%22u3%40faults.test%22'),
      await http.get('/admin/v1/orgs').set('Authorization', `Bearer ${ADMIN}`),
      await http.get('/readyz'),
    ];
    for (const res of answers) {
      expect(res.status, JSON.stringify(res.body)).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(answers[0]!.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503' });
    expect(answers[3]!.body.error.code).toBe('DMN_DATABASE_UNAVAILABLE');
    // Logged by error code only: never the statement's parameters (here, the user record).
    expect(logs.join('')).not.toContain('new@faults.test');

    await mariadb.start();
    await expect.poll(async () => (await deactivate(userIds[2]!)).status, { timeout: 30_000, interval: 500 }).toBe(200);
    expect((await scim('get', `/Users/${userIds[2]}`)).body.active).toBe(false);
    expect((await http.get('/readyz')).status).toBe(200);
  });
});
