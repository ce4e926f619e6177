/**
 * `GET /admin/v1/health`: what the console's Health page shows, in one call. Readiness is checked
 * here the way `/readyz` does; queue depths and the outbox backlog are read from the gauges the
 * jobs runtime registers in the shared metrics registry, so this plugin needs no import of the jobs
 * package and shows exactly what `/metrics` would.
 */
import { z } from 'zod';
import type { Database, MetricsRegistry, RedisClient } from '@doorman/plugin-api';

/** What the health reading needs of the plugin's services. */
type HealthEnv = { db: Database; redis: RedisClient | null; metrics: MetricsRegistry };

const QUEUE_GAUGE = 'doorman_jobs_queue_jobs';
const OUTBOX_PENDING = 'doorman_jobs_outbox_pending';
const OUTBOX_UNFINISHED = 'doorman_jobs_outbox_unfinished';
export const JOB_DASHBOARD_PATH = '/admin/queues';

export const healthSchema = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.string()),
  jobs: z.object({
    driver: z.enum(['bullmq', 'inline']),
    queues: z.array(z.object({ queue: z.string(), waiting: z.number(), active: z.number(), delayed: z.number(), failed: z.number(), completed: z.number() })),
    outboxPending: z.number().nullable(),
    outboxUnfinished: z.number().nullable(),
    failedJobs: z.number(),
  }),
  jobDashboard: z.string().nullable(),
});
export type Health = z.infer<typeof healthSchema>;

type Sample = { value: number; labels: Record<string, string | number> };

async function samples(env: HealthEnv, name: string): Promise<Sample[] | undefined> {
  const metric = env.metrics.getSingleMetric(name) as { get(): Promise<{ values: Sample[] }> } | undefined;
  if (!metric) return undefined;
  return (await metric.get()).values;
}

export async function readHealth(env: HealthEnv): Promise<Health> {
  const checks: Record<string, string> = {};
  try {
    await env.db.query('SELECT 1');
    checks.database = 'ok';
  } catch (err) {
    checks.database = `unreachable: ${(err as Error).message}`;
  }
  if (env.redis) {
    try {
      await env.redis.ping();
      checks.redis = 'ok';
    } catch (err) {
      checks.redis = `unreachable: ${(err as Error).message}`;
    }
  }
  const byQueue = new Map<string, Record<string, number>>();
  for (const s of (await samples(env, QUEUE_GAUGE)) ?? []) {
    const queue = String(s.labels.queue);
    const counts = byQueue.get(queue) ?? {};
    counts[String(s.labels.state)] = s.value;
    byQueue.set(queue, counts);
  }
  const queues = [...byQueue.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([queue, c]) => ({ queue, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0, completed: c.completed ?? 0 }));
  const single = async (name: string) => {
    const values = await samples(env, name);
    return values && values.length ? values[0]!.value : null;
  };
  const driver = env.redis ? 'bullmq' : 'inline';
  return {
    ready: Object.values(checks).every((v) => v === 'ok'),
    checks,
    jobs: { driver, queues, outboxPending: await single(OUTBOX_PENDING), outboxUnfinished: await single(OUTBOX_UNFINISHED), failedJobs: queues.reduce((n, q) => n + q.failed, 0) },
    // The dashboard is mounted only where jobs run through BullMQ (apps/gateway/src/main.ts).
    jobDashboard: driver === 'bullmq' ? JOB_DASHBOARD_PATH : null,
  };
}
