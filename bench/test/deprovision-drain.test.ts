import { describe, expect, it, vi } from 'vitest';
import type { Child } from '../lib/children.ts';
import { pauseWorkerIdle } from '../lib/deprovision-drain.ts';

/** A child whose signals are recorded instead of sent. */
const fakeChild = () => {
  const signals: string[] = [];
  const child = { name: 'worker', process: { kill: (signal: string) => signals.push(signal) } } as unknown as Child;
  return { child, signals };
};
const answers = (...values: number[]) => {
  const fn = vi.fn(async () => values.shift() ?? 0);
  return fn;
};

describe('pauseWorkerIdle', () => {
  it('keeps the first stop when the worker holds no job and no transaction', async () => {
    const { child, signals } = fakeChild();
    const pause = await pauseWorkerIdle(child, { activeJobs: answers(0), transactions: answers(0), retryMs: 0 });
    expect(signals).toEqual(['SIGSTOP']);
    expect(pause).toMatchObject({ attempts: 1, active: 0, transactions: 0 });
  });

  it('lets the worker run again while it holds an active job or an open transaction, then stops it idle', async () => {
    const { child, signals } = fakeChild();
    const transactions = answers(1, 0);
    const pause = await pauseWorkerIdle(child, { activeJobs: answers(2, 0, 0), transactions, retryMs: 0 });
    expect(signals).toEqual(['SIGSTOP', 'SIGCONT', 'SIGSTOP', 'SIGCONT', 'SIGSTOP']);
    expect(pause).toMatchObject({ attempts: 3, active: 0, transactions: 0 });
    // Transactions are only asked about once no job is active.
    expect(transactions).toHaveBeenCalledTimes(2);
  });

  it('leaves the worker paused when the attempts run out, and says what it held', async () => {
    const { child, signals } = fakeChild();
    const pause = await pauseWorkerIdle(child, { activeJobs: answers(1, 1, 1), transactions: answers(), attemptsLimit: 3, retryMs: 0 });
    expect(signals.at(-1)).toBe('SIGSTOP');
    expect(signals.filter((s) => s === 'SIGSTOP')).toHaveLength(3);
    expect(pause).toMatchObject({ attempts: 3, active: 1, transactions: 0 });
  });
});
