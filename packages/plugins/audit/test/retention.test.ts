import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePluginSettings, type JobContext } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { AuditEventEntity } from '@doorman/model';
import { auditPlugin } from '../src/index.ts';
import { verifyChain } from '../src/chain.ts';
import { producerPlugin, sealerOf, seedChain } from './helpers.ts';

const DAY = 86_400_000;
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    plugins: [auditPlugin, producerPlugin],
    redis: false,
    pluginSettings: { audit: { retentionDays: '30', purgeBatchSize: '7', sealIntervalMs: '0' } },
  });
});
async function verify(orgId: string | null) {
  await sealerOf(t).sealChain(orgId);
  return verifyChain(t.gateway.db, orgId);
}
afterAll(async () => t?.close());

const publish = (body: Record<string, unknown>) => t.admin('post', '/admin/v1/producer/events').send(body);
const count = (orgId: string | null) => t.gateway.db.getRepository(AuditEventEntity).count({ where: { orgId: orgId ?? (null as unknown as string) } });
function runPurge(gateway = t.gateway) {
  const job = gateway.jobs.definitions.get('audit/purge-expired')!;
  const ctx: JobContext = { id: 'test', attemptsMade: 0, logger: gateway.logger, updateProgress: async () => {} };
  return job.process(job.schema.parse({}), ctx) as Promise<{ deleted: number; chains: number; skipped: string[] }>;
}

describe('retention', () => {
  it('is scheduled daily and validated', () => {
    expect(t.gateway.jobs.schedules).toContainEqual({ id: 'audit-purge-expired', queue: 'audit', name: 'purge-expired', pattern: '30 3 * * *', data: {} });
    const { problems } = validatePluginSettings([auditPlugin], { audit: { retentionDays: '-1', purgeCron: 'daily' } });
    expect(problems).toEqual([expect.stringMatching(/^AUDIT_RETENTION_DAYS: /), expect.stringMatching(/^AUDIT_PURGE_CRON: /)]);
  });

  it('purges old events in batches and keeps every chain verifiable from its first remaining event', async () => {
    const now = Date.now();
    const old = (i: number) => ({ occurredAt: new Date(now - 100 * DAY + i * 1000) });
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    // Interleaved chains: old events of several organizations and the deployment, then newer ones.
    await seedChain(t.gateway.db, a, 50, old);
    await seedChain(t.gateway.db, b, 20, old);
    await seedChain(t.gateway.db, null, 10, old);
    await seedChain(t.gateway.db, c, 10, old);
    await seedChain(t.gateway.db, c, 5, (i) => ({ occurredAt: new Date(now - DAY + i * 1000) }));
    for (let i = 0; i < 3; i++) expect((await publish({ orgId: a, action: 'user.updated' })).status).toBe(204);
    expect((await publish({ action: 'connection.updated' })).status).toBe(204);
    for (const org of [a, b, c, null]) expect(await verify(org)).toMatchObject({ ok: true });

    const result = await runPurge();
    expect(result.deleted).toBe(90);

    expect([await count(a), await count(b), await count(c)]).toEqual([3, 0, 5]);
    expect(await verify(a)).toMatchObject({ ok: true, checked: 3 });
    expect(await verify(b)).toMatchObject({ ok: true, checked: 0 });
    expect(await verify(c)).toMatchObject({ ok: true, checked: 5 });
    // The deployment chain keeps its newer event and records the purge itself.
    expect(await verify(null)).toMatchObject({ ok: true, checked: 2 });
    const purged = await t.gateway.db.getRepository(AuditEventEntity).findOneByOrFail({ action: 'audit.purged' });
    expect(result).toMatchObject({ chains: 4, skipped: [] });
    expect(purged).toMatchObject({ actorType: 'system', orgId: null, changes: { deleted: { after: 90 }, chains: { after: 4 } } });

    // A purged chain continues: its next event links to the purged head and verifies.
    expect((await publish({ orgId: b, action: 'user.created' })).status).toBe(204);
    expect(await verify(b)).toMatchObject({ ok: true, checked: 1 });

    // Nothing is old enough any more.
    expect((await runPurge()).deleted).toBe(0);
  });

  it('still detects tampering after a purge', async () => {
    const d = randomUUID();
    for (let i = 0; i < 4; i++) await publish({ orgId: d, action: 'user.updated' });
    expect(await verify(d)).toMatchObject({ ok: true, checked: 4 });
    const seqs = (await t.gateway.db.getRepository(AuditEventEntity).find({ where: { orgId: d }, order: { seq: 'ASC' } })).map((e) => Number(e.seq));
    // Removing every event of a chain is not a purge: the purge only removes the oldest events of the table.
    await t.gateway.db.query('DELETE FROM audit_events WHERE org_id = ?', [d]);
    expect(await verify(d)).toMatchObject({ ok: false, brokenAtSeq: seqs[3] });
  });

  it('purges only sealed events, and never past a removed event (so retention cannot hide it)', async () => {
    const now = Date.now();
    const [e, f] = [randomUUID(), randomUUID()];
    await seedChain(t.gateway.db, e, 6, (i) => ({ occurredAt: new Date(now - 90 * DAY + i * 1000) }));
    await seedChain(t.gateway.db, f, 3, (i) => ({ occurredAt: new Date(now - 90 * DAY + i * 1000) }));
    // An old event that is not sealed yet (its transaction committed late, or the sealer is behind).
    expect((await publish({ orgId: f, action: 'user.updated' })).status).toBe(204);
    await t.gateway.db.query("UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00.000' WHERE org_id = ? AND chain_seq IS NULL", [f]);
    // Someone removes chain e's oldest event: that is not a purge.
    const [first] = await t.gateway.db.query('SELECT seq FROM audit_events WHERE org_id = ? ORDER BY chain_seq LIMIT 1', [e]);
    await t.gateway.db.query('DELETE FROM audit_events WHERE seq = ?', [first.seq]);

    const result = await runPurge();
    expect(result).toMatchObject({ deleted: 3, skipped: [`org:${e}`] });
    expect([await count(e), await count(f)]).toEqual([5, 1]);
    expect(await verifyChain(t.gateway.db, e)).toMatchObject({ ok: false, brokenAtSeq: Number(first.seq) + 1 });
    expect(await verify(f)).toMatchObject({ ok: true, checked: 1 });
  });

  it('keeps events forever with retentionDays 0 (and schedules no purge)', async () => {
    const g = await startTestGateway({ plugins: [auditPlugin], redis: false, pluginSettings: { audit: { retentionDays: '0' } } });
    try {
      await seedChain(g.gateway.db, null, 3, () => ({ occurredAt: new Date('2001-01-01T00:00:00Z') }));
      expect(g.gateway.jobs.schedules.map((s) => s.id)).toEqual(['audit-seal-chains']);
      expect((await runPurge(g.gateway)).deleted).toBe(0);
      expect(await g.gateway.db.getRepository(AuditEventEntity).count()).toBe(3);
    } finally {
      await g.close();
    }
  });
});
