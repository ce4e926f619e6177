import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { randomUUID } from 'node:crypto';
import { startJobRuntime, type JobRuntime } from '@doorman/jobs';
import { deleteKeysUnder } from '@doorman/jobs/testing';
import { adminPlugin } from '@doorman/plugin-admin';
import { consolePlugin } from '../src/index.ts';

let t: TestGateway;
const prefix = `{console-health-${randomUUID()}}`;

beforeAll(async () => {
  t = await startTestGateway({
    plugins: [consolePlugin],
    builtins: [adminPlugin],
    // As the gateway starts it (apps/gateway/src/jobs.ts): with the metrics registry, whose gauges the route reads.
    afterBuild: async (gateway) => {
      const runtime: JobRuntime = await startJobRuntime({
        registry: gateway.jobs,
        db: gateway.db,
        transaction: gateway.transaction,
        redisUrl: gateway.config.redisUrl!,
        role: 'all',
        mode: 'production',
        logger: gateway.logger,
        metrics: gateway.metrics,
        prefix,
        extraQueues: ['provisioning'],
      });
      return { close: async () => (await runtime.close(), await deleteKeysUnder(prefix)) };
    },
  });
});
afterAll(async () => t?.close());

describe('GET /admin/v1/health', () => {
  it('reports readiness, every queue with its depths, the outbox backlog and the job dashboard', async () => {
    const res = await t.admin('get', '/admin/v1/health');
    expect(res.status).toBe(200);
    expect(res.body.ready).toBe(true);
    expect(res.body.checks).toEqual({ database: 'ok', redis: 'ok' });
    expect(res.body.jobs.driver).toBe('bullmq');
    expect(res.body.jobs.queues.map((q: { queue: string }) => q.queue)).toContain('provisioning');
    for (const q of res.body.jobs.queues) expect(q).toEqual({ queue: expect.any(String), waiting: expect.any(Number), active: expect.any(Number), delayed: expect.any(Number), failed: expect.any(Number), completed: expect.any(Number) });
    expect(res.body.jobs.outboxPending).toBe(0);
    expect(res.body.jobDashboard).toBe('/admin/queues');
  });

  it('needs admin authentication', async () => {
    expect((await t.http.get('/admin/v1/health')).status).toBe(401);
  });
});
