import { describe, expect, it } from 'vitest';
import { deprovisionSummary, type DeprovisionFigures } from '../lib/deprovision-report.ts';

const figures = (over: Partial<DeprovisionFigures['drain']> = {}, pause: Partial<DeprovisionFigures['pause']> = {}): DeprovisionFigures => ({
  inactive: 1_200,
  deactivateRequests: 900,
  pause: { at: 0, attempts: 2, active: 0, transactions: 0, ...pause },
  drain: {
    jobs: 1_200,
    seconds: 1.5,
    pausedSeconds: 4.25,
    unfinishedJobs: 0,
    pendingMemberships: 0,
    cpuMicros: { worker: 812.4, database: 301.6, api: 40.2 },
    ...over,
  },
});

describe('deprovisionSummary', () => {
  it('reports the drain as jobs per second and each process CPU per deactivation', () => {
    const { json } = deprovisionSummary(figures());
    expect(json).toEqual({
      inactive: 1_200,
      deactivateRequests: 900,
      jobs: 1_200,
      unfinishedJobs: 0,
      pendingMemberships: 0,
      waitedSeconds: 1.5,
      jobsPerSecond: 800,
      workerCpuMicrosPerJob: 812,
      databaseCpuMicrosPerJob: 302,
      apiCpuMicrosPerJob: 40,
      workerPausedSeconds: 4.25,
      pauseAttempts: 2,
    });
  });

  it('prints the figures on one line, with the memberships still pending', () => {
    const { line } = deprovisionSummary(figures());
    expect(line).toContain('1200 jobs drained in 1.50 s = 800.0 jobs/s');
    expect(line).toContain('CPU per deactivation: worker 812, MariaDB 302 µs (api process 40 µs');
    expect(line).toContain('paused during the scenario for 4.3 s');
    expect(line).toContain('1200 inactive users, 0 memberships still pending');
    expect(line).not.toContain('!!');
    expect(line).not.toContain('unfinished');
  });

  it('says what is left when the drain ran out of time', () => {
    const { line, json } = deprovisionSummary(figures({ unfinishedJobs: 7, pendingMemberships: 5 }));
    expect(line).toContain('5 memberships still pending, 7 jobs unfinished');
    expect(json).toMatchObject({ unfinishedJobs: 7, pendingMemberships: 5 });
  });

  it('flags a pause that caught the worker busy', () => {
    expect(deprovisionSummary(figures({}, { active: 1, transactions: 2 })).line).toContain('!! paused with 1 job(s) active, 2 transaction(s) open');
  });

  it('shows a process whose CPU time could not be read as unknown, not zero', () => {
    const { line, json } = deprovisionSummary(figures({ cpuMicros: { worker: 500 } }));
    expect(line).toContain('worker 500, MariaDB - µs (api process - µs');
    expect(json).toMatchObject({ workerCpuMicrosPerJob: 500, databaseCpuMicrosPerJob: null, apiCpuMicrosPerJob: null });
  });

  it('has no rate without jobs', () => {
    expect(deprovisionSummary(figures({ jobs: 0, seconds: 0, cpuMicros: {} })).json.jobsPerSecond).toBeNull();
  });
});
