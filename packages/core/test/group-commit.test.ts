/**
 * groupCommitter's collection and failure rules, with a recording transaction (no database: the
 * database side is group-commit.test.ts in scim-users, against MariaDB).
 */
import { describe, expect, it } from 'vitest';
import type { EntityManager } from 'typeorm';
import { groupCommitter, InputError, isMemberError, type MemberOutcome } from '../src/index.ts';

function recorder(opts: { failGroupWith?: (inputs: number[]) => Error | undefined } = {}) {
  const log: string[] = [];
  const transaction = async <T>(work: (tx: EntityManager) => Promise<T>): Promise<T> => {
    log.push('begin');
    try {
      const out = await work({} as EntityManager);
      log.push('commit');
      return out;
    } catch (err) {
      log.push('rollback');
      throw err;
    }
  };
  const groups: number[][] = [];
  const submit = groupCommitter<number, string>({
    transaction,
    runGroup: async (_tx, inputs) => {
      groups.push(inputs);
      const failure = opts.failGroupWith?.(inputs);
      if (failure) throw failure;
      return inputs.map((n): MemberOutcome<string> => (n < 0 ? { ok: false, error: new InputError(`bad ${n}`) } : { ok: true, value: `v${n}` }));
    },
    runAlone: async (n) => transaction(async () => {
      log.push(`alone ${n}`);
      if (n === 13) throw new Error('poison');
      return `alone${n}`;
    }),
    maxGroup: 3,
    maxInFlight: 1,
  });
  return { submit, log, groups };
}

describe('groupCommitter', () => {
  it('groups what arrives in one turn (up to maxGroup) and answers each after its commit', async () => {
    const { submit, log, groups } = recorder();
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => submit(n)));
    expect(answers).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(groups).toEqual([[1, 2, 3], [4, 5]]);
    expect(log).toEqual(['begin', 'commit', 'begin', 'commit']);
  });

  it("answers a member's own error to that member only; the others commit", async () => {
    const { submit, groups } = recorder();
    const answers = await Promise.allSettled([submit(1), submit(-1), submit(2)]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(groups).toHaveLength(1);
  });

  it('re-runs every member alone when the group fails as a whole, so a poisonous member fails alone', async () => {
    const { submit, log } = recorder({ failGroupWith: (inputs) => (inputs.includes(13) ? new Error('group failed') : undefined) });
    const answers = await Promise.allSettled([submit(1), submit(13), submit(2)]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).toEqual(['alone1', 'poison', 'alone2']);
    expect(log.slice(0, 2)).toEqual(['begin', 'rollback']);
  });

  it('fails a group of one with its own error, without running it twice', async () => {
    const { submit, groups } = recorder({ failGroupWith: () => new Error('outage') });
    await expect(submit(7)).rejects.toThrow('outage');
    expect(groups).toEqual([[7]]);
  });

  it("tells a member's own error (4xx) from the group's", () => {
    expect(isMemberError(new InputError('x'))).toBe(true);
    expect(isMemberError(new Error('ER_LOCK_DEADLOCK'))).toBe(false);
  });
});
