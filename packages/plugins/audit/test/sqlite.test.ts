import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createTransactionRunner, EventBus, type Actor } from '@doorman/core';
import { testEvent } from '@doorman/core/testing';
import { AuditEventEntity, createDataSource } from '@doorman/model';
import { verifyChain } from '../src/chain.ts';
import { ChainSealer } from '../src/sealer.ts';
import { AuditWriter } from '../src/writer.ts';
import { exportStream, listEvents, listQuerySchema } from '../src/query.ts';
import { purgeExpired } from '../src/retention.ts';

// The embedded default: the same writer, sealer, verification, query and purge on SQLite.
let ds: DataSource;
const actor: Actor = { type: 'system', id: null, requestId: null };
beforeAll(async () => {
  ds = createDataSource({ url: 'sqlite::memory:' });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
});
afterAll(async () => ds?.destroy());

describe('on SQLite', () => {
  it('writes, rolls back, seals, lists, exports, verifies and purges', async () => {
    const transaction = createTransactionRunner(ds);
    const bus = new EventBus();
    const writer = new AuditWriter();
    const sealer = new ChainSealer(ds, transaction, 3);
    let now = new Date('2024-01-01T00:00:00Z');
    bus.subscribe((tx, a, e) => writer.record(tx, a, e, now));

    for (let i = 0; i < 5; i++) await transaction((tx) => bus.publish(tx, actor, testEvent({ action: 'user.updated', orgId: 'o1', target: { type: 'user', id: `u${i}` } })));
    await expect(
      transaction(async (tx) => {
        await bus.publish(tx, actor, testEvent({ action: 'user.deleted', orgId: 'o1' }));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    now = new Date();
    for (let i = 0; i < 3; i++) await transaction((tx) => bus.publish(tx, actor, testEvent({ action: 'member.added', orgId: 'o1', changes: { role: { after: 'member' } } })));

    expect(await ds.getRepository(AuditEventEntity).count()).toBe(8);
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 0, unsealed: 8 });
    // Two sealers at once (batches of 3): one chain, each event sealed once.
    const [a, b] = await Promise.all([sealer.sealAll(), new ChainSealer(ds, transaction).sealAll()]);
    expect(a.sealed + b.sealed).toBe(8);
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 8, lastChainSeq: 8, unsealed: 0 });
    const page = await listEvents(ds, listQuerySchema.parse({ orgId: 'o1', action: 'member.*', limit: '2' }));
    expect(page.events).toHaveLength(2);
    expect((await listEvents(ds, listQuerySchema.parse({ orgId: 'o1', action: 'member.*', cursor: page.nextCursor! }))).events).toHaveLength(1);
    expect((await listEvents(ds, listQuerySchema.parse({ from: '2024-01-01', to: '2024-01-02' }))).events).toHaveLength(5);

    let text = '';
    for await (const chunk of exportStream(ds, { orgId: 'o1' }, 'ndjson', 3)) text += chunk;
    expect(text.trim().split('\n')).toHaveLength(8);

    expect(await purgeExpired(ds, transaction, new Date('2024-06-01T00:00:00Z'), 2)).toMatchObject({ deleted: 5, chains: 1 });
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 3 });
    await transaction((tx) => bus.publish(tx, actor, testEvent({ action: 'user.created', orgId: 'o1' })));
    expect(await sealer.sealChain('o1')).toBe(1);
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 4, lastChainSeq: 9 });
    await ds.query("UPDATE audit_events SET action = 'member.removed' WHERE seq = (SELECT MAX(seq) FROM audit_events)");
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: false });
  });
});
