/**
 * The SCIM benchmark's deprovisioning line and its BENCH_JSON part (scim-report.ts): the deactivate
 * scenario's jobs, run by the worker process after the scenario (deprovision-drain.ts).
 */
import type { Drain, WorkerPause } from './deprovision-drain.ts';
import { fixed } from './report.ts';

/** What the deprovisioning line reports. */
export interface DeprovisionFigures {
  /** Users of the main connection inactive at the end. */
  inactive: number;
  deactivateRequests: number;
  pause: WorkerPause;
  drain: Drain;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The deprovisioning line of the report and its BENCH_JSON document. */
export function deprovisionSummary(d: DeprovisionFigures): { line: string; json: Record<string, unknown> } {
  const { drain, pause } = d;
  const jobsPerSecond = drain.jobs / drain.seconds;
  const cpu = (name: string) => (drain.cpuMicros[name] === undefined ? null : Math.round(drain.cpuMicros[name]!));
  const cpuText = (name: string, label = name) => (cpu(name) === null ? `${label} -` : `${label} ${fixed(cpu(name)!, 0)}`);
  const caught = pause.active || pause.transactions ? `  !! paused with ${pause.active} job(s) active, ${pause.transactions} transaction(s) open` : '';
  const line =
    `deprovisioning after deactivate (the worker process, paused during the scenario for ${fixed(drain.pausedSeconds)} s, then alone): ` +
    `${drain.jobs} jobs drained in ${fixed(drain.seconds, 2)} s = ${fixed(jobsPerSecond)} jobs/s; ` +
    `CPU per deactivation: ${cpuText('worker')}, ${cpuText('database', 'MariaDB')} µs (${cpuText('api', 'api process')} µs: its relay's polling and its share of sealing the jobs' audit events); ` +
    `${d.inactive} inactive users, ${drain.pendingMemberships} memberships still pending${drain.unfinishedJobs ? `, ${drain.unfinishedJobs} jobs unfinished` : ''}${caught}`;
  const json = {
    inactive: d.inactive,
    deactivateRequests: d.deactivateRequests,
    jobs: drain.jobs,
    unfinishedJobs: drain.unfinishedJobs,
    pendingMemberships: drain.pendingMemberships,
    waitedSeconds: round(drain.seconds, 2),
    jobsPerSecond: Number.isFinite(jobsPerSecond) ? round(jobsPerSecond, 1) : null,
    workerCpuMicrosPerJob: cpu('worker'),
    databaseCpuMicrosPerJob: cpu('database'),
    apiCpuMicrosPerJob: cpu('api'),
    workerPausedSeconds: round(drain.pausedSeconds, 2),
    pauseAttempts: pause.attempts,
  };
  return { line, json };
}
