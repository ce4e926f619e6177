import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { DASHBOARD_NEEDS_REDIS, mountJobDashboardUnavailable } from '../src/dashboard.ts';

/** Without Redis (the embedded default), /admin/queues says why there is no dashboard instead of a bare 404. */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [], redis: false, afterBuild: (g) => mountJobDashboardUnavailable(g.http) });
});
afterAll(async () => t?.close());

it('answers 404 naming REDIS_URL, after admin authentication', async () => {
  const anonymous = await t.http.get('/admin/queues');
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
  for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
    const res = await t.admin('get', path);
    expect(res.status, path).toBe(404);
    expect(res.body.error).toEqual({ code: 'DMN_DASHBOARD_NEEDS_REDIS', message: DASHBOARD_NEEDS_REDIS });
    expect(res.body.error.message).toContain('REDIS_URL');
  }
});
