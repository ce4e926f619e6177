/**
 * The deactivate scenario's jobs, measured apart from its SCIM answers (scim-bench.ts, issue #26: "the
 * SCIM answer; the job is measured separately"). The worker process is paused (SIGSTOP) while the
 * api process answers the deactivations and relays their job intents to BullMQ; then it is resumed
 * and drains the backlog alone, with its CPU time and MariaDB's counted per job.
 */
import { performance } from 'node:perf_hooks';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { pauseChild, resumeChild, type Child } from './children.ts';
import { cpuPerRequest, cpuSnapshot } from './load.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function count(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const [[row]] = await pool.query<RowDataPacket[]>(sql, params);
  return Number(row!.n);
}

/** Open InnoDB transactions of connections to `dbName` other than the caller's (information_schema). */
export function openTransactions(pool: Pool, dbName: string): Promise<number> {
  return count(
    pool,
    `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
      WHERE p.DB = ? AND p.ID <> CONNECTION_ID()`,
    [dbName],
  );
}

export interface WorkerPause {
  /** performance.now() when the worker was stopped for good. */
  at: number;
  /** Stops until the worker was caught idle (1: at once). */
  attempts: number;
  /** Jobs active and transactions open at the final stop: 0 and 0 unless the attempts ran out. */
  active: number;
  transactions: number;
}

/**
 * Pauses the worker at a moment it holds nothing: after the SIGSTOP, BullMQ's active lists must be
 * empty and no transaction open on the bench database (the api process is idle between scenarios,
 * so one open there is the worker's, or a timer's of either: tried again); otherwise the worker runs
 * again for a moment and the stop is tried again. So no job sits half-done, its lock running out
 * (15 s: packages/jobs' worker settings), and no row or chain-head lock is held across the pause.
 */
export async function pauseWorkerIdle(
  worker: Child,
  o: { activeJobs: () => Promise<number>; transactions: () => Promise<number>; attemptsLimit?: number; retryMs?: number },
): Promise<WorkerPause> {
  const limit = o.attemptsLimit ?? 40;
  for (let attempts = 1; ; attempts++) {
    pauseChild(worker);
    const at = performance.now();
    const active = await o.activeJobs();
    const open = active ? -1 : await o.transactions();
    // Out of attempts, the worker stays paused all the same: the report flags it.
    if ((active === 0 && open === 0) || attempts >= limit) return { at, attempts, active, transactions: Math.max(0, open) };
    resumeChild(worker);
    await sleep(o.retryMs ?? 250);
  }
}

/** Waits (bounded) until the api's relay has handed every job intent to BullMQ; returns how many are left. */
export async function waitForRelay(pool: Pool, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const left = await count(pool, 'SELECT COUNT(*) AS n FROM outbox WHERE relayed_at IS NULL');
    if (left === 0 || Date.now() - started > limitMs) return left;
    await sleep(100);
  }
}

/** Deactivated users of the connection who still hold a membership it granted. */
export function pendingMemberships(pool: Pool, connectionId: string): Promise<number> {
  return count(
    pool,
    `SELECT COUNT(*) AS n FROM connection_users cu JOIN org_memberships m ON m.user_id = cu.user_id AND m.connection_id = cu.connection_id
      WHERE cu.connection_id = ? AND cu.active = 0`,
    [connectionId],
  );
}

const UNFINISHED = "SELECT COUNT(*) AS n FROM outbox WHERE completed_at IS NULL AND job_name = 'deactivate-user'";

export interface Drain {
  /** Deactivation jobs waiting when the worker was resumed. */
  jobs: number;
  /** From the resume until every one finished (recorded in the outbox) and no membership was left. */
  seconds: number;
  /** How long the worker was paused (SIGSTOP to SIGCONT). */
  pausedSeconds: number;
  /** Left at the end (0 unless the limit ran out). */
  unfinishedJobs: number;
  pendingMemberships: number;
  /** CPU microseconds per job over the drain, per process of `cpuOf`. */
  cpuMicros: Record<string, number>;
}

/**
 * Resumes the paused worker and waits (bounded by `limitMs`) until the deactivation jobs are done:
 * every one recorded as finished in the outbox (polled every 100 ms through its `completed_at` index)
 * and then no deactivated user left with a membership of the connection.
 */
export async function drainDeprovisioning(o: { pool: Pool; connectionId: string; worker: Child; pause: WorkerPause; cpuOf: Record<string, number>; limitMs: number }): Promise<Drain> {
  const jobs = await count(o.pool, UNFINISHED);
  const before = cpuSnapshot(o.cpuOf);
  resumeChild(o.worker);
  const resumed = performance.now();
  let unfinishedJobs = jobs;
  let pending = -1;
  while (performance.now() - resumed < o.limitMs) {
    unfinishedJobs = await count(o.pool, UNFINISHED);
    if (unfinishedJobs === 0) {
      pending = await pendingMemberships(o.pool, o.connectionId);
      if (pending === 0) break;
    }
    await sleep(unfinishedJobs === 0 ? 250 : 100);
  }
  const seconds = (performance.now() - resumed) / 1000;
  const after = cpuSnapshot(o.cpuOf);
  if (pending !== 0) pending = await pendingMemberships(o.pool, o.connectionId);
  const cpuMicros = jobs ? cpuPerRequest(before, after, jobs) : {};
  delete cpuMicros['load generator']; // this process only polled
  return { jobs, seconds, pausedSeconds: (resumed - o.pause.at) / 1000, unfinishedJobs, pendingMemberships: pending, cpuMicros };
}
