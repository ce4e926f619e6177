import { describe, expect, it } from 'vitest';
import { deactivateUserJob, jobIntent, reactivateUserJob, syncConnectionJob, toBullJobId, jobOptionsFor, PROVISIONING_QUEUE, SYNC_QUEUE } from '../src/index.ts';

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

describe('jobIntent', () => {
  const ids = { connectionId: 'c1', connectionUserId: 'cu1', userId: 'u1' };
  it.each([
    ['deactivation', () => jobIntent(deactivateUserJob, 'deactivate-user.cu1.v2', { ...ids, reason: 'inactive' }), PROVISIONING_QUEUE, 'deactivate-user'],
    ['reactivation', () => jobIntent(reactivateUserJob, 'reactivate-user.cu1.v3', ids), PROVISIONING_QUEUE, 'reactivate-user'],
    ['sync', () => jobIntent(syncConnectionJob, 'sync-connection.c1.r7', { connectionId: 'c1', trigger: 'manual' }), SYNC_QUEUE, 'sync-connection'],
  ])('builds a %s intent', (_label, build, queue, name) => {
    expect(build()).toMatchObject({ queue, name });
  });

  it.each([
    ['an id with a colon', () => jobIntent(reactivateUserJob, 'reactivate:cu1', ids), /must not contain ':'/],
    ['an integer id', () => jobIntent(reactivateUserJob, '42', ids), /must not be an integer/],
    ['an empty id', () => jobIntent(reactivateUserJob, '', ids), /1\.\.255/],
    ['an unknown reason', () => jobIntent(deactivateUserJob, 'd.1', { ...ids, reason: 'bored' as 'inactive' }), /reason/],
    ['a missing field', () => jobIntent(syncConnectionJob, 's.1', { trigger: 'manual' } as never), /connectionId/],
  ])('refuses %s', (_label, build, message) => {
    expect(build).toThrow(message);
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
    const definition = { ...deactivateUserJob, attempts: 3, backoffMs: 200, process: async () => undefined };
    expect(jobOptionsFor(definition, 'x.2', {})).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 200 } });
  });

  it('deduplicates syncs per connection, keeping the latest request while one runs', () => {
    const definition = { ...syncConnectionJob, process: async () => undefined };
    expect(jobOptionsFor(definition, 'sync-connection.c9.r1', { connectionId: 'c9', trigger: 'manual' }).deduplication).toEqual({
      id: 'sync.c9',
      keepLastIfActive: true,
    });
  });
});
