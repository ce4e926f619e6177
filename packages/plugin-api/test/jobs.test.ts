import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, JobDataInvalid, JobIdInvalid } from '../src/index.ts';

const job = defineJob({
  queue: 'provisioning',
  name: 'deactivate-user',
  schema: z.object({ connectionUserId: z.string().min(1), reason: z.enum(['inactive', 'deleted']), note: z.string().default('none') }),
  deduplicationKey: (data) => `user.${data.connectionUserId}`,
});

describe('defineJob', () => {
  it('makes intents that carry the queue, the name, the id and the parsed data', () => {
    expect(job.intent('deactivate-user.cu1.v2', { connectionUserId: 'cu1', reason: 'inactive' })).toEqual({
      queue: 'provisioning',
      name: 'deactivate-user',
      id: 'deactivate-user.cu1.v2',
      data: { connectionUserId: 'cu1', reason: 'inactive', note: 'none' },
    });
  });

  it('keeps the spec for the processor: queue, name, schema and deduplication key', () => {
    const definition = { ...job, process: async () => undefined };
    expect(definition).toMatchObject({ queue: 'provisioning', name: 'deactivate-user' });
    expect(definition.schema.parse({ connectionUserId: 'cu9', reason: 'deleted' })).toEqual({ connectionUserId: 'cu9', reason: 'deleted', note: 'none' });
    expect(definition.deduplicationKey?.({ connectionUserId: 'cu9', reason: 'deleted', note: 'x' })).toBe('user.cu9');
  });

  it('makes schedules of the job', () => {
    const scheduled = defineJob({ queue: 'audit', name: 'seal-chains', schema: z.object({}).loose() });
    expect(scheduled.schedule('audit-seal-chains', '* * * * *')).toEqual({ id: 'audit-seal-chains', queue: 'audit', name: 'seal-chains', pattern: '* * * * *', data: {} });
    expect(() => job.schedule('s', '* * * * *')).toThrow(JobDataInvalid);
  });

  it.each([
    ['an id with a colon', 'deactivate:cu1', /must not contain ':'/],
    ['an integer id', '42', /must not be an integer/],
    ['an empty id', '', /1\.\.255/],
    ['an over-long id', 'x'.repeat(256), /1\.\.255/],
  ])('refuses %s with DMN_JOB_ID_INVALID', (_label, id, message) => {
    const make = () => job.intent(id, { connectionUserId: 'cu1', reason: 'inactive' });
    expect(make).toThrow(JobIdInvalid);
    expect(make).toThrow(message);
  });

  it('refuses data the schema refuses with DMN_JOB_DATA_INVALID, naming the fields but not the values', () => {
    const bad = () => job.intent('d.1', { connectionUserId: 'secret-value-1', reason: 'bored' as 'inactive' });
    expect(bad).toThrow(JobDataInvalid);
    expect(bad).toThrow(/reason/);
    expect(bad).not.toThrow(/secret-value-1|bored/);
    expect(() => job.intent('d.2', { reason: 'inactive' } as never)).toThrow(/connectionUserId/);
    try {
      bad();
    } catch (err) {
      expect((err as { code: string }).code).toBe('DMN_JOB_DATA_INVALID');
    }
  });
});
