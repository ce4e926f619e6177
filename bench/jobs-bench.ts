/**
 * Jobs throughput: raw BullMQ no-op jobs (the ceiling) against intents going the whole way —
 * committed to the outbox in a transaction, relayed to BullMQ, run by a worker doing a DB write.
 *
 *   npx tsx bench/jobs-bench.ts            (from the repo root; needs MariaDB on 3306 and Redis on 6379)
 *   JOBS=20000 CONCURRENCY=50 npx tsx bench/jobs-bench.ts
 *
 * Prints a table and one JSON line (`{"bench":"jobs",...}`) with the ratios to the ceiling.
 */
import { randomUUID } from 'node:crypto';
import { JobRegistry } from '@doorman/core';
import { OrganizationEntity } from '@doorman/model';
import { openTestDataSource } from '@doorman/model/testing';
import { z } from 'zod';
import { startJobRuntime, type JobsLogger } from '@doorman/jobs';
import { measureBullmqThroughput } from '@doorman/jobs/bench';

type DataSource = Awaited<ReturnType<typeof openTestDataSource>>['ds'];

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const JOBS = Number(process.env.JOBS ?? 10_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
/** Concurrent "SCIM requests" in the live run, each committing one intent per transaction. */
const PRODUCERS = Number(process.env.PRODUCERS ?? 50);
const QUEUE = 'bench';

/** Warnings and errors to stderr, the rest dropped (the bench has no pino of its own). */
function stderrLogger(bound: Record<string, unknown> = {}): JobsLogger {
  const quiet = () => undefined;
  const loud = (level: string) => (a: unknown, b?: unknown) => process.stderr.write(`${level} ${JSON.stringify({ ...bound, ...(typeof a === 'object' ? a : {}) })} ${typeof a === 'string' ? a : (b ?? '')}\n`);
  return { trace: quiet, debug: quiet, info: quiet, warn: loud('warn'), error: loud('error'), fatal: loud('fatal'), child: (more: Record<string, unknown>) => stderrLogger({ ...bound, ...more }) } as unknown as JobsLogger;
}

function benchRegistry(db: DataSource, write: boolean, onDone: () => void): JobRegistry {
  const registry = new JobRegistry();
  registry.define({
    queue: QUEUE,
    name: 'write',
    // Any small payload schema does.
    schema: z.object({ connectionId: z.string(), connectionUserId: z.string(), userId: z.string() }),
    attempts: 3,
    async process(data) {
      if (write) await db.getRepository(OrganizationEntity).insert({ id: randomUUID(), name: `bench.${data.connectionUserId}` });
      onDone();
    },
  });
  return registry;
}

const intent = (run: string, i: number) => ({
  queue: QUEUE,
  name: 'write',
  id: `write.${run}.${i}`,
  data: { connectionId: run, connectionUserId: `${run}-${i}`, userId: `u${i}` },
});

/** The same write without any job machinery: what the database allows on this machine. */
async function dbWriteRun(db: DataSource): Promise<Row> {
  const run = randomUUID().slice(0, 8);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < JOBS) {
        const i = next++;
        await db.getRepository(OrganizationEntity).insert({ id: randomUUID(), name: `bench.${run}-${i}` });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { scenario: `the job's DB write alone, ${CONCURRENCY} at a time (DB bound)`, jobs: JOBS, seconds, jobsPerSecond: JOBS / seconds };
}

interface Row {
  scenario: string;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

async function outboxRun(db: DataSource, mode: 'backlog' | 'live', write = true): Promise<Row> {
  const run = randomUUID().slice(0, 8);
  let done = 0;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const registry = benchRegistry(db, write, () => {
    if (++done === JOBS) resolveDone();
  });
  const prefix = `{doorman-bench-${run}}`;
  const startRuntime = () =>
    startJobRuntime({ registry, db, redisUrl: REDIS_URL, role: 'all', mode: 'production', logger: stderrLogger(), prefix, concurrency: { [QUEUE]: CONCURRENCY } });

  let started: number;
  let runtime;
  if (mode === 'backlog') {
    // 10,000 intents already committed (e.g. after a Redis outage); time the drain.
    for (let i = 0; i < JOBS; i += 500) {
      await db.transaction((tx) => registry.enqueue(tx, ...Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => intent(run, i + k))));
    }
    started = performance.now();
    runtime = await startRuntime();
  } else {
    // Producers commit one intent per transaction while the runtime is running, like SCIM requests.
    runtime = await startRuntime();
    started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < JOBS) {
          const i = next++;
          await db.transaction((tx) => registry.enqueue(tx, intent(run, i)));
        }
      }),
    );
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const [row] = await db.query('SELECT COUNT(*) AS n FROM organizations WHERE name LIKE ?', [`bench.${run}-%`]);
  if (write && Number(row.n) !== JOBS) throw new Error(`expected ${JOBS} writes, found ${row.n}`);
  for (const q of runtime.queues.values()) await q.obliterate({ force: true });
  await runtime.close();
  return { scenario: `outbox → relay → worker${write ? '' : ', no-op job'} (${mode === 'backlog' ? 'backlog drain' : `${PRODUCERS} live producers`})`, jobs: JOBS, seconds, jobsPerSecond: JOBS / seconds };
}

const { ds: db, close } = await openTestDataSource();
try {
  const ceiling = await measureBullmqThroughput({ redisUrl: REDIS_URL, prefix: `{doorman-bench-${randomUUID().slice(0, 8)}}`, jobs: JOBS, concurrency: CONCURRENCY });
  const rows: Row[] = [{ scenario: 'raw BullMQ no-op (ceiling)', jobs: ceiling.jobs, seconds: ceiling.seconds, jobsPerSecond: ceiling.jobsPerSecond }];
  rows.push(await outboxRun(db, 'backlog'));
  rows.push(await outboxRun(db, 'live'));
  const dbBound = await dbWriteRun(db);
  rows.push(dbBound);
  const noop = await outboxRun(db, 'backlog', false);
  rows.push(noop);

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\njobs bench: ${JOBS} jobs, worker concurrency ${CONCURRENCY}, MariaDB + Redis on localhost\n`);
  console.log(`${pad('scenario', 58)} ${pad('jobs', 7)} ${pad('seconds', 8)} ${pad('jobs/s', 8)} of ceiling`);
  for (const r of rows) {
    console.log(`${pad(r.scenario, 58)} ${pad(String(r.jobs), 7)} ${pad(r.seconds.toFixed(2), 8)} ${pad(r.jobsPerSecond.toFixed(0), 8)} ${((100 * r.jobsPerSecond) / ceiling.jobsPerSecond).toFixed(0)}%`);
  }
  console.log(
    JSON.stringify({
      bench: 'jobs',
      jobs: JOBS,
      concurrency: CONCURRENCY,
      ceilingJobsPerSecond: Math.round(ceiling.jobsPerSecond),
      backlogJobsPerSecond: Math.round(rows[1]!.jobsPerSecond),
      liveJobsPerSecond: Math.round(rows[2]!.jobsPerSecond),
      backlogRatio: Number((rows[1]!.jobsPerSecond / ceiling.jobsPerSecond).toFixed(3)),
      liveRatio: Number((rows[2]!.jobsPerSecond / ceiling.jobsPerSecond).toFixed(3)),
      dbWriteOnlyPerSecond: Math.round(dbBound.jobsPerSecond),
      noopBacklogRatio: Number((noop.jobsPerSecond / ceiling.jobsPerSecond).toFixed(3)),
      backlogToDbBoundRatio: Number((rows[1]!.jobsPerSecond / dbBound.jobsPerSecond).toFixed(3)),
    }),
  );
} finally {
  await close();
}
