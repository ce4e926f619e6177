import { describe, expect, it } from 'vitest';
import type { Logger } from '@doorman/core';
import { jobContext } from '../src/bullmq-driver.ts';

/** A logger that counts the children made from it and keeps what each child logged. */
function countingLogger() {
  const children: Array<{ bindings: Record<string, unknown>; lines: unknown[][] }> = [];
  const logger = {
    child(bindings: Record<string, unknown>) {
      const child = { bindings, lines: [] as unknown[][] };
      children.push(child);
      const log = (...args: unknown[]) => void child.lines.push(args);
      return { info: log, warn: log, error: log, debug: log, child: () => logger.child(bindings) } as unknown as Logger;
    },
  } as unknown as Logger;
  return { logger, children };
}

const job = { id: 'deactivate-user.cu1.v2', name: 'deactivate-user', attemptsMade: 1, updateProgress: async () => undefined };

describe('jobContext (what a BullMQ processor gets)', () => {
  it('makes no child logger for a job that never logs', () => {
    const { logger, children } = countingLogger();
    const context = jobContext(job, 'provisioning', logger);
    expect(context).toMatchObject({ id: 'deactivate-user.cu1.v2', attemptsMade: 1 });
    expect(children).toHaveLength(0);
  });

  it('makes one child logger, with the job named, when the processor logs', () => {
    const { logger, children } = countingLogger();
    const context = jobContext(job, 'provisioning', logger);
    context.logger.info({ n: 1 }, 'first');
    context.logger.warn({ n: 2 }, 'second');
    expect(children).toHaveLength(1);
    expect(children[0]!.bindings).toEqual({ queue: 'provisioning', job: 'deactivate-user', jobId: 'deactivate-user.cu1.v2', attempt: 2 });
    expect(children[0]!.lines).toEqual([[{ n: 1 }, 'first'], [{ n: 2 }, 'second']]);
  });
});
