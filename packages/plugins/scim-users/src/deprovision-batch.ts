import DataLoader from 'dataloader';
import type { EntityManager } from 'typeorm';
import { deprovisionUser, deprovisionUsers } from './deprovision.ts';
import { RuntimeError } from '@doorman/plugin-api';

type Deps = Parameters<typeof deprovisionUser>[1];
type Job = Parameters<typeof deprovisionUser>[2];
type Outcome = Awaited<ReturnType<typeof deprovisionUser>>;
type Transaction = <T>(work: (tx: EntityManager) => Promise<T>) => Promise<T>;

/** Largest number of deactivation jobs applied in one transaction. */
export const DEPROVISION_BATCH = 50;

/**
 * Deactivation jobs that a worker runs at the same moment (a burst: an IdP deactivating a department)
 * are applied in ONE transaction, up to 50 at a time, instead of one durable commit each: the
 * database's commit rate, shared with the SCIM requests of the burst, is what bounds deprovisioning
 * (bench/README.md, "fault-bench"). Each job's unit of work is `deprovisionUser`'s (idempotent), with
 * the row locks and the session ending shared by the batch (`deprovisionUsers`), in connection-user
 * order so concurrent batches lock rows in one order. If the batch fails, each
 * job runs again in a transaction of its own, so one failing job fails (and is retried) alone.
 */
export function batchedDeprovisioner(transaction: Transaction, deps: Deps): (job: Job) => Promise<Outcome> {
  const runAlone = (job: Job) => transaction((tx) => deprovisionUser(tx, deps, job));
  const loader = new DataLoader<Job, Outcome>(
    async (jobs) => {
      if (jobs.length === 1) return [await runAlone(jobs[0]!).catch(asError)];
      const order = jobs.map((_, i) => i).sort((a, b) => (jobs[a]!.connectionUserId < jobs[b]!.connectionUserId ? -1 : 1));
      try {
        return await transaction(async (tx) => {
          // Shared statements for the batch (deprovisionUsers): one locking read of the rows, one of
          // the open sessions and one UPDATE ending them, per connection.
          const sorted = await deprovisionUsers(tx, deps, order.map((i) => jobs[i]!));
          const out: Outcome[] = new Array(jobs.length);
          order.forEach((i, k) => (out[i] = sorted[k]!));
          return out;
        });
      } catch {
        return Promise.all(jobs.map((job) => runAlone(job).catch(asError)));
      }
    },
    // Jobs that start within the same millisecond or two form one batch; no caching (every job runs).
    { cache: false, maxBatchSize: DEPROVISION_BATCH, batchScheduleFn: (dispatch) => setTimeout(dispatch, 1) },
  );
  return (job) => loader.load(job);
}

const asError = (err: unknown) => (err instanceof Error ? err : new RuntimeError(String(err)));
