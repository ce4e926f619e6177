/**
 * Commit hooks (src/commit-hooks.ts) against real databases: a buffer is written in one statement
 * inside the transaction before COMMIT, nothing is written on rollback, and a rolled-back savepoint
 * (group commit's, docs/group-commit.md) drops only what it added.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource, EntityManager } from 'typeorm';
import { createDataSource } from '@doorman/model';
import { TEST_ENGINES, type TestDatabase } from '@doorman/model/testing';
import { afterCommit, beforeCommit, createTransactionRunner, inTransaction, transactionBuffer } from '../src/index.ts';

describe.each(TEST_ENGINES)('commit hooks on $name', ({ open }) => {
  let db: TestDatabase;
  let ds: DataSource;
  let transaction: ReturnType<typeof createTransactionRunner>;
  beforeAll(async () => {
    db = await open();
    ds = createDataSource({ url: db.url });
    await ds.initialize();
    await ds.query('CREATE TABLE hook_rows (id VARCHAR(64) PRIMARY KEY, tag VARCHAR(64) NOT NULL)');
    transaction = createTransactionRunner(ds);
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  const log: string[] = [];
  const rows = transactionBuffer<{ id: string; tag: string }>(async (tx, items) => {
    log.push(`flush ${items.map((i) => i.id).join(',')} (in transaction: ${inTransaction(tx)})`);
    await tx.query(`INSERT INTO hook_rows (id, tag) VALUES ${items.map(() => '(?, ?)').join(', ')}`, items.flatMap((i) => [i.id, i.tag]));
  });
  const tagged = async (tag: string) => ((await ds.query('SELECT id FROM hook_rows WHERE tag = ? ORDER BY id', [tag])) as Array<{ id: string }>).map((r) => r.id);
  /** Runs `work` in a savepoint of `tx`, as group commit does; `fail` rolls the savepoint back. */
  const savepoint = async (tx: EntityManager, work: () => Promise<void>, fail: boolean) => {
    const qr = tx.queryRunner!;
    await qr.startTransaction();
    await work();
    if (fail) await qr.rollbackTransaction();
    else await qr.commitTransaction();
  };

  it('writes a transaction’s items in one statement just before COMMIT, and runs after-commit hooks after it', async () => {
    log.length = 0;
    await transaction(async (tx) => {
      await rows.add(tx, { id: 'c1', tag: 'commit' });
      afterCommit(tx, 'wake', () => log.push('after commit'));
      afterCommit(tx, 'wake', () => log.push('after commit, registered twice'));
      await rows.add(tx, { id: 'c2', tag: 'commit' }, { id: 'c3', tag: 'commit' });
      log.push('work done');
      // Not yet written: the buffer waits for the commit.
      expect(Number((await tx.query("SELECT COUNT(*) AS n FROM hook_rows WHERE tag = 'commit'"))[0].n)).toBe(0);
    });
    expect(log).toEqual(['work done', 'flush c1,c2,c3 (in transaction: true)', 'after commit']);
    expect(await tagged('commit')).toEqual(['c1', 'c2', 'c3']);
  });

  it('writes nothing and runs no hook when the transaction rolls back', async () => {
    log.length = 0;
    await expect(
      transaction(async (tx) => {
        await rows.add(tx, { id: 'r1', tag: 'rollback' });
        beforeCommit(tx, 'check', async () => void log.push('before commit'));
        afterCommit(tx, undefined, () => log.push('after commit'));
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(log).toEqual([]);
    expect(await tagged('rollback')).toEqual([]);
    // The next transaction on the pool starts clean.
    await transaction((tx) => rows.add(tx, { id: 'r2', tag: 'rollback' }));
    expect(await tagged('rollback')).toEqual(['r2']);
  });

  it('a failing flush fails the commit: the change does not commit without its rows', async () => {
    const failing = transactionBuffer<string>(async () => {
      throw new Error('flush failed');
    });
    await expect(
      transaction(async (tx) => {
        await tx.query("INSERT INTO hook_rows (id, tag) VALUES ('f1', 'failed-flush')");
        await failing.add(tx, 'x');
      }),
    ).rejects.toThrow('flush failed');
    expect(await tagged('failed-flush')).toEqual([]);
  });

  it('a rolled-back savepoint drops only its own items and hooks; a released one keeps them', async () => {
    log.length = 0;
    await transaction(async (tx) => {
      await rows.add(tx, { id: 's1', tag: 'savepoint' });
      await savepoint(tx, async () => {
        await rows.add(tx, { id: 's2', tag: 'savepoint' });
        afterCommit(tx, 'released', () => log.push('after commit (released savepoint)'));
      }, false);
      await savepoint(tx, async () => {
        await rows.add(tx, { id: 's3', tag: 'savepoint' });
        afterCommit(tx, 'dropped', () => log.push('after commit (rolled-back savepoint)'));
        beforeCommit(tx, 'dropped', async () => void log.push('before commit (rolled-back savepoint)'));
        // Nested: rolled back together with its parent.
        await savepoint(tx, () => rows.add(tx, { id: 's4', tag: 'savepoint' }), false);
      }, true);
      await rows.add(tx, { id: 's5', tag: 'savepoint' });
    });
    expect(log).toEqual(['flush s1,s2,s5 (in transaction: true)', 'after commit (released savepoint)']);
    expect(await tagged('savepoint')).toEqual(['s1', 's2', 's5']);
  });

  it('a buffer first used inside a savepoint that rolls back still flushes what the transaction adds later', async () => {
    log.length = 0;
    await transaction(async (tx) => {
      await savepoint(tx, () => rows.add(tx, { id: 'l1', tag: 'late' }), true);
      await rows.add(tx, { id: 'l2', tag: 'late' });
    });
    expect(log).toEqual(['flush l2 (in transaction: true)']);
    expect(await tagged('late')).toEqual(['l2']);
  });

  it('outside a transaction, items are written at once', async () => {
    log.length = 0;
    await rows.add(ds.manager, { id: 'o1', tag: 'outside' });
    expect(log).toEqual(['flush o1 (in transaction: false)']);
    expect(await tagged('outside')).toEqual(['o1']);
  });
});
