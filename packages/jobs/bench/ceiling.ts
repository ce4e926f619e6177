/**
 * Benchmark support, not production code (`@doorman/jobs/bench`; kept out of src/): the raw BullMQ
 * ceiling every jobs benchmark compares against (bench/README.md).
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RuntimeError } from '@doorman/core';
import { hashTaggedPrefix } from '../src/runtime.ts';

export interface CeilingResult {
  jobs: number;
  concurrency: number;
  seconds: number;
  jobsPerSecond: number;
}

/**
 * Raw BullMQ throughput, the ceiling for anything built on it: `jobs` no-op jobs added with
 * addBulk, one worker at `concurrency`, timed from the first add to the last completion.
 * Exported so every jobs benchmark measures its ceiling the same way in the same run.
 * `work`, when given, runs in each job with the job's index (0 … jobs-1) — for a ceiling that also
 * includes the least a real job must do (one durable database write, say).
 */
export async function measureBullmqThroughput(o: {
  redisUrl: string;
  prefix: string;
  jobs: number;
  concurrency: number;
  queue?: string;
  work?: (index: number) => Promise<void>;
}): Promise<CeilingResult> {
  const prefix = hashTaggedPrefix(o.prefix);
  const name = o.queue ?? 'ceiling';
  const producer = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
  const workerConnection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: producer, prefix });
  let done = 0;
  let resolveDone!: () => void;
  let rejectDone!: (err: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const worker = new Worker(
    name,
    async (job) => {
      if (o.work) await o.work((job.data as { i: number }).i);
      if (++done === o.jobs) resolveDone();
    },
    { connection: workerConnection, prefix, concurrency: o.concurrency, autorun: false },
  );
  worker.on('error', () => undefined);
  // A job whose work fails would never be counted: the measurement fails instead of waiting forever.
  worker.on('failed', (job, err) => rejectDone(new RuntimeError(`ceiling job ${job?.id ?? '?'} failed: ${err.message}`)));
  try {
    await worker.waitUntilReady();
    const started = performance.now();
    void worker.run();
    for (let i = 0; i < o.jobs; i += 1000) {
      const n = Math.min(1000, o.jobs - i);
      await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { i: i + k }, opts: { removeOnComplete: true, removeOnFail: true } })));
    }
    await finished;
    const seconds = (performance.now() - started) / 1000;
    return { jobs: o.jobs, concurrency: o.concurrency, seconds, jobsPerSecond: o.jobs / seconds };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await producer.quit();
    await workerConnection.quit();
  }
}
