import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IsNull } from 'typeorm';
import type { JobContext } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { AuditEventEntity, createDataSource } from '@doorman/model';
import { auditPlugin } from '../src/index.ts';
import { chainKeyOf, eventRow, lockHead, verifyChain } from '../src/chain.ts';
import { ChainSealer } from '../src/sealer.ts';
import { insertRows } from '../src/writer.ts';
import { producerPlugin, sealerOf } from './helpers.ts';

// Sealing is explicit in this file (timer off), except in the test of the timer loop itself.
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ plugins: [auditPlugin, producerPlugin], redis: false, pluginSettings: { audit: { sealIntervalMs: '0' } } });
});
afterAll(async () => t?.close());

const SYSTEM = { type: 'system', id: null, requestId: null } as const;
const createUser = (orgId: string) => t.admin('post', '/admin/v1/producer/users').send({ orgId, email: `${randomUUID()}@example.com` });
const publish = (body: Record<string, unknown>) => t.admin('post', '/admin/v1/producer/events').send(body);
const eventsOf = (orgId: string) => t.gateway.db.getRepository(AuditEventEntity).find({ where: { orgId }, order: { seq: 'ASC' } });

/** A transaction of our own, left open until we say: a producer that has written its event but not committed. */
async function openTransaction() {
  const qr = t.gateway.db.createQueryRunner();
  await qr.connect();
  await qr.startTransaction();
  return {
    manager: qr.manager,
    async commit() {
      await qr.commitTransaction();
      await qr.release();
    },
    async rollback() {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      if (!qr.isReleased) await qr.release();
    },
  };
}

describe('producers are off the chain', () => {
  it('a transaction of the same organization commits while another one holding its event is still open', async () => {
    const orgId = randomUUID();
    const open = await openTransaction();
    try {
      await insertRows(open.manager, [eventRow(SYSTEM, { action: 'user.updated', orgId }, new Date())]);
      // Under a per-organization chain lock this would wait for `open` (and time the test out).
      expect((await createUser(orgId)).status).toBe(200);
      expect((await createUser(orgId)).status).toBe(200);
    } finally {
      await open.rollback();
    }
    expect((await eventsOf(orgId)).map((e) => e.action)).toEqual(['user.created', 'member.added', 'user.created', 'member.added']);
  });

  it('a producer commits while a sealer holds the chain head', async () => {
    const orgId = randomUUID();
    expect((await createUser(orgId)).status).toBe(200);
    await sealerOf(t).sealChain(orgId);
    const sealer = await openTransaction();
    try {
      await lockHead(sealer.manager, chainKeyOf(orgId), false);
      expect((await createUser(orgId)).status).toBe(200);
    } finally {
      await sealer.rollback();
    }
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: true, checked: 2, unsealed: 2 });
  });

  it('an event whose transaction commits after a later-seq event is sealed after it, and the chain verifies', async () => {
    const orgId = randomUUID();
    const late = await openTransaction();
    await insertRows(late.manager, [eventRow(SYSTEM, { action: 'late.committed', orgId }, new Date())]);
    expect((await publish({ orgId, action: 'early.committed' })).status).toBe(204);
    // The sealer sees only what has committed: the later seq is sealed first.
    expect(await sealerOf(t).sealChain(orgId)).toBe(1);
    await late.commit();
    expect(await sealerOf(t).sealChain(orgId)).toBe(1);

    const [lateEvent, earlyEvent] = await eventsOf(orgId);
    expect([lateEvent.action, earlyEvent.action]).toEqual(['late.committed', 'early.committed']);
    expect(Number(lateEvent.seq)).toBeLessThan(Number(earlyEvent.seq));
    expect([Number(earlyEvent.chainSeq), Number(lateEvent.chainSeq)]).toEqual([1, 2]);
    expect(lateEvent.prevHash).toBe(earlyEvent.hash);
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: true, checked: 2, lastSeq: Number(lateEvent.seq), lastChainSeq: 2, unsealed: 0 });
  });

  it('a rolled-back producer leaves nothing to seal', async () => {
    const orgId = randomUUID();
    const open = await openTransaction();
    await insertRows(open.manager, [eventRow(SYSTEM, { action: 'rolled.back', orgId }, new Date())]);
    expect((await publish({ orgId, action: 'kept' })).status).toBe(204);
    await open.rollback();
    expect(await sealerOf(t).sealChain(orgId)).toBe(1);
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: true, checked: 1, unsealed: 0 });
  });
});

describe('sealers on several replicas', () => {
  it('three sealers at once, one on another connection pool, produce one valid chain per organization', async () => {
    const orgs = [randomUUID(), randomUUID(), randomUUID()];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => createUser(orgs[i % 3])));
    expect(results.map((r) => r.status)).toEqual(new Array(60).fill(200));
    // Earlier tests left some unsealed events in other organizations: all of them get sealed exactly once.
    const backlog = await t.gateway.db.getRepository(AuditEventEntity).countBy({ chainSeq: IsNull() });
    expect(backlog).toBeGreaterThanOrEqual(120);

    const replica = createDataSource({ url: t.gateway.config.databaseUrl });
    await replica.initialize();
    try {
      // Small batches, so the sealers interleave many short transactions on the same heads.
      const sealers = [new ChainSealer(t.gateway.db, t.gateway.transaction, 7), new ChainSealer(t.gateway.db, t.gateway.transaction, 5), new ChainSealer(replica, (work) => replica.transaction(work), 3)];
      const sealed = await Promise.all(sealers.map((s) => s.sealAll()));
      expect(sealed.reduce((n, r) => n + r.sealed, 0)).toBe(backlog);
    } finally {
      await replica.destroy();
    }
    for (const orgId of orgs) {
      expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: true, checked: 40, lastChainSeq: 40, unsealed: 0 });
      const chainSeqs = (await eventsOf(orgId)).map((e) => Number(e.chainSeq)).sort((a, b) => a - b);
      expect(chainSeqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    // Sealing again finds nothing: it is idempotent.
    expect(await sealerOf(t).sealAll()).toEqual({ sealed: 0, chains: 0 });
  });
});

describe('verification of sealed and unsealed events', () => {
  async function sealedChain(n: number) {
    const orgId = randomUUID();
    for (let i = 0; i < n; i++) expect((await publish({ orgId, action: 'user.updated', target: { type: 'user', id: `u${i}` } })).status).toBe(204);
    await sealerOf(t).sealChain(orgId);
    return { orgId, seqs: (await eventsOf(orgId)).map((e) => Number(e.seq)) };
  }

  it('detects an edited sealed event', async () => {
    const { orgId, seqs } = await sealedChain(3);
    await t.gateway.db.query("UPDATE audit_events SET target_id = 'someone-else' WHERE seq = ?", [seqs[1]]);
    const result = await verifyChain(t.gateway.db, orgId);
    expect(result).toMatchObject({ ok: false, brokenAtSeq: seqs[1], checked: 1 });
    expect(result.ok === false && result.reason).toMatch(/altered/);
  });

  it('detects a sealed event made unsealed again, even after the sealer re-seals it at the end', async () => {
    const { orgId, seqs } = await sealedChain(4);
    await t.gateway.db.query('UPDATE audit_events SET chain_seq = NULL, hash = NULL, prev_hash = NULL WHERE seq = ?', [seqs[1]]);
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: false, brokenAtSeq: seqs[2], unsealed: 1 });
    expect(await sealerOf(t).sealChain(orgId)).toBe(1);
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: false, brokenAtSeq: seqs[2], unsealed: 0 });
  });

  it('detects a removed oldest event (not a purge) and a forged event beyond the head', async () => {
    const first = await sealedChain(3);
    await t.gateway.db.query('DELETE FROM audit_events WHERE seq = ?', [first.seqs[0]]);
    const removed = await verifyChain(t.gateway.db, first.orgId);
    expect(removed).toMatchObject({ ok: false, brokenAtSeq: first.seqs[1] });
    expect(removed.ok === false && removed.reason).toMatch(/start of the chain were removed/);

    const forged = await sealedChain(2);
    await t.gateway.db.query(
      "INSERT INTO audit_events (id, org_id, actor_type, action, prev_hash, hash, chain_seq) SELECT ?, org_id, 'system', 'user.deleted', hash, hash, 3 FROM audit_events WHERE seq = ?",
      [randomUUID(), forged.seqs[1]],
    );
    const beyond = await verifyChain(t.gateway.db, forged.orgId);
    expect(beyond).toMatchObject({ ok: false });
    expect(beyond.ok === false && beyond.reason).toMatch(/beyond the chain head/);
  });

  it('reports events unsealed for too long as a finding, not as a broken link', async () => {
    const { orgId } = await sealedChain(2);
    expect((await publish({ orgId, action: 'user.updated' })).status).toBe(204);
    const [pending] = (await eventsOf(orgId)).filter((e) => e.chainSeq === null);

    const fresh = await verifyChain(t.gateway.db, orgId, { unsealedAlertMs: 60_000 });
    expect(fresh).toMatchObject({ ok: true, checked: 2, unsealed: 1, findings: [] });

    const later = new Date(Date.now() + 10 * 60_000);
    const stale = await verifyChain(t.gateway.db, orgId, { unsealedAlertMs: 60_000, now: later });
    expect(stale).toMatchObject({ ok: true, checked: 2, unsealed: 1, findings: [{ kind: 'unsealed', count: 1, oldestSeq: Number(pending.seq) }] });
    expect(stale.findings[0].reason).toMatch(/^1 event unsealed for more than 60 s \(oldest: seq \d+, occurred .*\): is the sealer running\?$/);
  });

  it('GET /audit/verify seals first, and the event list shows what is not sealed yet', async () => {
    const orgId = randomUUID();
    expect((await createUser(orgId)).status).toBe(200);
    const before = await t.admin('get', '/admin/v1/audit').query({ orgId });
    expect(before.body.events.map((e: { sealed: boolean; hash: string | null }) => [e.sealed, e.hash])).toEqual([[false, null], [false, null]]);
    const res = await t.admin('get', '/admin/v1/audit/verify').query({ orgId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, checked: 2, lastChainSeq: 2, unsealed: 0, findings: [] });
    const after = await t.admin('get', '/admin/v1/audit').query({ orgId });
    expect(after.body.events.map((e: { sealed: boolean; chainSeq: number }) => [e.sealed, e.chainSeq])).toEqual([[true, 2], [true, 1]]);
  });
});

describe('where sealing runs', () => {
  it('the seal-chains job is scheduled every minute and seals every chain', async () => {
    expect(t.gateway.jobs.schedules).toContainEqual({ id: 'audit-seal-chains', queue: 'audit', name: 'seal-chains', pattern: '* * * * *', data: {} });
    const [a, b] = [randomUUID(), randomUUID()];
    for (const orgId of [a, b, a]) expect((await publish({ orgId, action: 'team.created' })).status).toBe(204);
    const job = t.gateway.jobs.definitions.get('audit/seal-chains')!;
    const ctx: JobContext = { id: 'test', attemptsMade: 0, logger: t.gateway.logger, updateProgress: async () => {} };
    const result = (await job.process(job.schema.parse({}), ctx)) as { sealed: number; chains: number };
    expect(result.sealed).toBeGreaterThanOrEqual(3);
    expect(await verifyChain(t.gateway.db, a)).toMatchObject({ ok: true, checked: 2, unsealed: 0 });
    expect(await verifyChain(t.gateway.db, b)).toMatchObject({ ok: true, checked: 1, unsealed: 0 });
  });

  it('the in-process timer loop seals without being asked, and stops on shutdown', async () => {
    const g = await startTestGateway({ plugins: [auditPlugin, producerPlugin], redis: false, pluginSettings: { audit: { sealIntervalMs: '20' } } });
    try {
      const orgId = randomUUID();
      expect((await g.admin('post', '/admin/v1/producer/users').send({ orgId, email: 'timer@example.com' })).status).toBe(200);
      await vi.waitFor(async () => expect(await verifyChain(g.gateway.db, orgId)).toMatchObject({ ok: true, checked: 2, unsealed: 0 }), { timeout: 20_000, interval: 50 });
    } finally {
      await g.close();
    }
  });

  it('rejects a bad sealing setting, naming it', async () => {
    const { validatePluginSettings } = await import('@doorman/core');
    const { problems } = validatePluginSettings([auditPlugin], { audit: { sealIntervalMs: '-5', sealCron: 'often' } });
    expect(problems).toEqual([expect.stringMatching(/^AUDIT_SEAL_INTERVAL_MS: /), expect.stringMatching(/^AUDIT_SEAL_CRON: /)]);
  });
});
