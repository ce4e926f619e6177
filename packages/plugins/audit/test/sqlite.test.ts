import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createTransactionRunner, EventBus, type Actor } from '@doorman/core';
import { AuditEventEntity, createDataSource } from '@doorman/model';
import { ChainWriter, verifyChain } from '../src/chain.ts';
import { exportStream, listEvents, listQuerySchema } from '../src/query.ts';
import { purgeExpired } from '../src/retention.ts';

// The embedded default: the same writer, verification, query and purge on SQLite.
let ds: DataSource;
const actor: Actor = { type: 'system', id: null, requestId: null };
beforeAll(async () => {
  ds = createDataSource({ url: 'sqlite::memory:' });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
});
afterAll(async () => ds?.destroy());

describe('on SQLite', () => {
  it('chains, rolls back, lists, exports, verifies and purges', async () => {
    const transaction = createTransactionRunner(ds);
    const bus = new EventBus();
    const writer = new ChainWriter(ds);
    let now = new Date('2024-01-01T00:00:00Z');
    bus.subscribe((tx, a, e) => writer.record(tx, a, e, now));

    for (let i = 0; i < 5; i++) await transaction((tx) => bus.publish(tx, actor, { action: 'user.updated', orgId: 'o1', target: { type: 'user', id: `u${i}` } }));
    await expect(
      transaction(async (tx) => {
        await bus.publish(tx, actor, { action: 'user.deleted', orgId: 'o1' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    now = new Date();
    for (let i = 0; i < 3; i++) await transaction((tx) => bus.publish(tx, actor, { action: 'member.added', orgId: 'o1', changes: { role: { after: 'member' } } }));

    expect(await ds.getRepository(AuditEventEntity).count()).toBe(8);
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 8 });
    const page = await listEvents(ds, listQuerySchema.parse({ orgId: 'o1', action: 'member.*', limit: '2' }));
    expect(page.events).toHaveLength(2);
    expect((await listEvents(ds, listQuerySchema.parse({ orgId: 'o1', action: 'member.*', cursor: page.nextCursor! }))).events).toHaveLength(1);
    expect((await listEvents(ds, listQuerySchema.parse({ from: '2024-01-01', to: '2024-01-02' }))).events).toHaveLength(5);

    let text = '';
    for await (const chunk of exportStream(ds, { orgId: 'o1' }, 'ndjson', 3)) text += chunk;
    expect(text.trim().split('\n')).toHaveLength(8);

    expect(await purgeExpired(ds, transaction, new Date('2024-06-01T00:00:00Z'), 2)).toMatchObject({ deleted: 5 });
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: true, checked: 3 });
    await ds.query("UPDATE audit_events SET action = 'member.removed' WHERE seq = (SELECT MAX(seq) FROM audit_events)");
    expect(await verifyChain(ds, 'o1')).toMatchObject({ ok: false });
  });
});
