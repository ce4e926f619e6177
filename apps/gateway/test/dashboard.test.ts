import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as delay } from 'node:timers/promises';
import { coreServices, definePlugin } from '@doorman/core';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '@doorman/core/testing';
import type { JobRuntime } from '@doorman/jobs';
import { deactivateUserJob, PROVISIONING_QUEUE } from '@doorman/plugin-scim-users';
import { SYNC_QUEUE } from '@doorman/plugin-role-mapping';
import { startTestJobRuntime } from '@doorman/jobs/testing';
import { mountJobDashboard } from '../src/dashboard.ts';

let healthy = false;
const probe = definePlugin({
  id: 'dashboard-probe',
  description: 'a deactivation job that fails until told otherwise',
  deps: { jobs: coreServices.jobs },
  register({ jobs }) {
    jobs.define({
      ...deactivateUserJob,
      attempts: 1,
      async process() {
        if (!healthy) throw new Error('directory unavailable');
      },
    });
  },
});

let t: TestGateway;
let runtime: JobRuntime;
beforeAll(async () => {
  t = await startTestGateway({
    plugins: [probe],
    afterBuild: async (g) => {
      const jobs = await startTestJobRuntime(g, { prefixTag: 'dashboard-test', extraQueues: [PROVISIONING_QUEUE, SYNC_QUEUE] });
      runtime = jobs.runtime;
      mountJobDashboard(g.http, runtime.queues);
      return jobs;
    },
  });
});
afterAll(async () => t?.close());

async function until(check: () => Promise<boolean>, what: string) {
  for (let i = 0; !(await check()); i++) {
    if (i > 400) throw new Error(`gave up waiting for: ${what}`);
    await delay(50);
  }
}

describe('job dashboard', () => {
  it('refuses requests without an admin token', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const res = await t.http.get(path);
      expect(res.status, path).toBe(401);
      // A Basic challenge on its own, so a browser prompts (the password is an admin token).
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="[^"]+", charset="UTF-8"$/);
    }
    expect((await t.http.get('/admin/queues').set('Authorization', 'Bearer not-the-token')).status).toBe(401);
  });

  it('accepts the admin token as a Basic password (the browser sign-in) and keeps Bearer-only challenges on the API', async () => {
    const basic = `Basic ${Buffer.from(`ops:${TEST_ADMIN_TOKEN}`).toString('base64')}`;
    expect((await t.http.get('/admin/queues').set('Authorization', basic)).status).toBe(200);
    expect((await t.http.get('/admin/queues').set('Authorization', `Basic ${Buffer.from('ops:wrong').toString('base64')}`)).status).toBe(401);
    expect((await t.http.get('/admin/v1/orgs')).headers['www-authenticate']).toBe('Bearer realm="doorman-admin"');
  });

  it('serves the dashboard page to admins', async () => {
    const res = await t.admin('get', '/admin/queues');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toMatch(/<base href="\/admin\/queues\/?"/);
    const script = /src="(static\/js\/main[^"]+)"/.exec(res.text)![1];
    expect((await t.http.get(`/admin/queues/${script}`)).status).toBe(401);
    const asset = await t.admin('get', `/admin/queues/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('lists both queues, and retries and cleans failed jobs', async () => {
    const list = await t.admin('get', '/admin/queues/api/queues');
    expect(list.status).toBe(200);
    expect(list.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([PROVISIONING_QUEUE, SYNC_QUEUE]);

    const queue = runtime.queues.get(PROVISIONING_QUEUE)!;
    const ids = { connectionId: 'c1', connectionUserId: 'cu1', userId: 'u1' };
    await t.gateway.transaction((tx) =>
      t.gateway.jobs.enqueue(
        tx,
        deactivateUserJob.intent('deactivate-user.cu1.v1', { ...ids, reason: 'inactive' }),
        deactivateUserJob.intent('deactivate-user.cu1.v2', { ...ids, reason: 'deleted' }),
      ),
    );
    await until(async () => (await queue.getJobCounts('failed')).failed === 2, 'both jobs failed');

    healthy = true;
    const retry = await t.admin('put', `/admin/queues/api/queues/${PROVISIONING_QUEUE}/deactivate-user.cu1.v1/retry`);
    expect(retry.status).toBeLessThan(300);
    await until(async () => (await queue.getJob('deactivate-user.cu1.v1'))?.finishedOn !== undefined && (await queue.getJobCounts('completed')).completed === 1, 'retried job completed');

    // (The bulk "clean all" spares jobs younger than bull-board's grace period; the per-job action does not.)
    const clean = await t.admin('put', `/admin/queues/api/queues/${PROVISIONING_QUEUE}/deactivate-user.cu1.v2/clean`);
    expect(clean.status).toBeLessThan(300);
    expect(await queue.getJobCounts('failed', 'completed')).toEqual({ failed: 0, completed: 1 });
  });
});
