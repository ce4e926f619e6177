import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toBullJobId, jobOptionsFor } from '../src/index.ts';
import { dedupJob, TEST_QUEUE } from './helpers.ts';

describe('toBullJobId', () => {
  it.each([
    ['deactivate-user.cu1.v3', 'deactivate-user.cu1.v3'],
    ['a:b', 'a%3Ab'],
    ['a%3Ab', 'a%253Ab'],
    ['12345', '%i12345'],
    ['%i12345', '%25i12345'],
    ['12a', '12a'],
  ])('%s → %s', (id, expected) => {
    expect(toBullJobId(id)).toBe(expected);
  });
});

describe('jobOptionsFor', () => {
  it('applies attempts, exponential backoff, retention and the defaults', () => {
    expect(jobOptionsFor(undefined, 'x.1', {})).toEqual({
      jobId: 'x.1',
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: { age: 604_800 },
    });
    const definition = { queue: TEST_QUEUE, name: 'record', schema: z.object({}), attempts: 3, backoffMs: 200, process: async () => undefined };
    expect(jobOptionsFor(definition, 'x.2', {})).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 200 } });
  });

  it('deduplicates syncs per connection, keeping the latest request while one runs', () => {
    const definition = { ...dedupJob, process: async () => undefined };
    expect(jobOptionsFor(definition, 'sync-connection.c9.r1', { connectionId: 'c9', trigger: 'manual' }).deduplication).toEqual({
      id: 'sync.c9',
      keepLastIfActive: true,
    });
  });
});
