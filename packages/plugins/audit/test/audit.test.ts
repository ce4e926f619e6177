import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { AuditEventEntity, UserEntity } from '@doorman/model';
import { auditPlugin } from '../src/index.ts';
import { verifyChain } from '../src/chain.ts';
import type { ApiAuditEvent } from '../src/query.ts';
import { producerPlugin, sealerOf } from './helpers.ts';

let t: TestGateway;
beforeAll(async () => {
  // No timer loop here: each test seals when it means to (the loop has its own tests in sealer.test.ts).
  t = await startTestGateway({ plugins: [auditPlugin, producerPlugin], redis: false, pluginSettings: { audit: { sealIntervalMs: '0' } } });
});
afterAll(async () => t?.close());

const createUser = (orgId: string, email: string, fail?: 'after-publish') => t.admin('post', '/admin/v1/producer/users').send({ orgId, email, ...(fail ? { fail } : {}) });
const publish = (body: Record<string, unknown>) => t.admin('post', '/admin/v1/producer/events').send(body);
const seal = (orgId: string | null) => sealerOf(t).sealChain(orgId);
/** Seals the chain (as the plugin's timer would have), then verifies it. */
async function verify(orgId: string | null) {
  await seal(orgId);
  return verifyChain(t.gateway.db, orgId);
}
const eventsOf = (orgId: string) => t.gateway.db.getRepository(AuditEventEntity).find({ where: { orgId }, order: { seq: 'ASC' } });
async function list(query: Record<string, string | number | undefined>): Promise<{ events: ApiAuditEvent[]; nextCursor: string | null }> {
  const res = await t.admin('get', '/admin/v1/audit').query(query);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe('same-transaction property', () => {
  it('a failure after the change leaves neither the change nor its event', async () => {
    const orgId = randomUUID();
    const res = await createUser(orgId, 'rolled-back@example.com', 'after-publish');
    expect(res.status).toBe(400);
    expect(await t.gateway.db.getRepository(UserEntity).countBy({ emailLc: 'rolled-back@example.com' })).toBe(0);
    expect(await eventsOf(orgId)).toEqual([]);
    // The chain was not advanced either: the next event starts it cleanly.
    expect((await createUser(orgId, 'after-rollback@example.com')).status).toBe(200);
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 2 });
  });

  it('a successful change leaves exactly its events, with actor and request id', async () => {
    const orgId = randomUUID();
    const res = await createUser(orgId, 'kept@example.com').set('X-Request-Id', 'req-kept-1');
    expect(res.status).toBe(200);
    const { userId } = res.body;
    expect(await t.gateway.db.getRepository(UserEntity).countBy({ id: userId })).toBe(1);
    // Committed with the change, unsealed; the sealer links them into the chain.
    expect((await eventsOf(orgId)).map((e) => [e.chainSeq, e.prevHash, e.hash])).toEqual([[null, null, null], [null, null, null]]);
    expect(await seal(orgId)).toBe(2);
    const events = await eventsOf(orgId);
    expect(events.map((e) => [e.action, e.targetType, e.targetId])).toEqual([
      ['user.created', 'user', userId],
      ['member.added', 'user', userId],
    ]);
    expect(events[0]).toMatchObject({ actorType: 'admin_token', actorId: 'bootstrap', requestId: 'req-kept-1', changes: { email: { after: 'kept@example.com' } }, prevHash: null });
    expect(events[1].prevHash).toBe(events[0].hash);
    expect(events.map((e) => Number(e.chainSeq))).toEqual([1, 2]);
  });
});

describe('transaction edge cases', () => {
  it('drops events published inside a rolled-back savepoint and keeps those of a released one', async () => {
    const orgId = randomUUID();
    expect((await t.admin('post', '/admin/v1/producer/savepoint').send({ orgId, action: 'team.created' })).status).toBe(204);
    expect((await eventsOf(orgId)).map((e) => e.action)).toEqual(['team.created.outer', 'team.created.released']);
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 2 });
  });

  it('records an event published outside a transaction', async () => {
    const orgId = randomUUID();
    for (let i = 0; i < 3; i++) expect((await t.admin('post', '/admin/v1/producer/untransacted').send({ orgId, action: 'sync.completed' })).status).toBe(204);
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 3 });
  });

  it('writes to two chains from one transaction, in either order (no deadlock, no fork)', async () => {
    const [x, y] = [randomUUID(), randomUUID()].sort();
    // Each request writes to both organizations, half of them publishing in the opposite order.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.admin('post', '/admin/v1/producer/pair').send({ first: i % 2 ? x : y, second: i % 2 ? y : x })),
    );
    expect(results.map((r) => r.status)).toEqual(new Array(20).fill(204));
    for (const org of [x, y]) expect(await verify(org)).toMatchObject({ ok: true, checked: 20 });
  });
});

describe('hash chain verification', () => {
  async function chainOf(n: number) {
    const orgId = randomUUID();
    for (let i = 0; i < n; i++) expect((await publish({ orgId, action: 'member.role_changed', target: { type: 'user', id: `u${i}` }, changes: { role: { before: 'member', after: 'owner' } } })).status).toBe(204);
    await seal(orgId);
    const seqs = (await eventsOf(orgId)).map((e) => Number(e.seq));
    return { orgId, seqs };
  }

  it('accepts an intact chain, over HTTP too', async () => {
    const { orgId } = await chainOf(5);
    const res = await t.admin('get', '/admin/v1/audit/verify').query({ orgId });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, checked: 5 });
  });

  it.each([
    ['changes', `UPDATE audit_events SET changes = '{"role":{"before":"member","after":"member"}}' WHERE seq = ?`],
    ['action', `UPDATE audit_events SET action = 'member.added' WHERE seq = ?`],
    ['occurred_at', `UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00.000' WHERE seq = ?`],
    ['actor_id', `UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = ?`],
  ])('detects an edited %s and names that seq', async (_column, sql) => {
    const { orgId, seqs } = await chainOf(5);
    await t.gateway.db.query(sql, [seqs[2]]);
    const res = await t.admin('get', '/admin/v1/audit/verify').query({ orgId });
    expect(res.body).toMatchObject({ ok: false, brokenAtSeq: seqs[2], checked: 2 });
    expect(res.body.reason).toMatch(/altered/);
  });

  it('detects an edited row whose hash was recomputed, at the next link', async () => {
    const { orgId, seqs } = await chainOf(4);
    const [row] = await eventsOf(orgId).then((e) => e.filter((x) => Number(x.seq) === seqs[1]));
    const { hashEvent } = await import('../src/chain.ts');
    const forged = { ...row, action: 'member.removed' };
    await t.gateway.db.query('UPDATE audit_events SET action = ?, hash = ? WHERE seq = ?', [forged.action, hashEvent(forged), seqs[1]]);
    expect(await verify(orgId)).toMatchObject({ ok: false, brokenAtSeq: seqs[2] });
  });

  it('detects a deleted middle row at the event after it', async () => {
    const { orgId, seqs } = await chainOf(5);
    await t.gateway.db.query('DELETE FROM audit_events WHERE seq = ?', [seqs[2]]);
    const result = await verify(orgId);
    expect(result).toMatchObject({ ok: false, brokenAtSeq: seqs[3] });
    expect(result.ok === false && result.reason).toMatch(/removed/);
  });

  it('detects removed newest events through the chain head', async () => {
    const { orgId, seqs } = await chainOf(4);
    await t.gateway.db.query('DELETE FROM audit_events WHERE seq >= ?', [seqs[2]]);
    expect(await verify(orgId)).toMatchObject({ ok: false, brokenAtSeq: seqs[3] });
  });

  it('keeps one unforked chain per organization under 50 concurrent changes', async () => {
    const orgId = randomUUID();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => createUser(orgId, `concurrent-${i}@example.com`)));
    expect(results.map((r) => r.status)).toEqual(new Array(50).fill(200));
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 100 });
    const events = await eventsOf(orgId);
    expect(events).toHaveLength(100);
    expect(new Set(events.map((e) => e.prevHash)).size).toBe(100);
    expect(new Set(events.map((e) => e.chainSeq)).size).toBe(100);
  });

  it('verifies the deployment chain (events without an organization) when no orgId is given', async () => {
    expect((await publish({ action: 'connection.created', target: { type: 'connection', id: 'c1' } })).status).toBe(204);
    expect((await publish({ action: 'connection.updated', target: { type: 'connection', id: 'c1' } })).status).toBe(204);
    const res = await t.admin('get', '/admin/v1/audit/verify');
    expect(res.body).toMatchObject({ ok: true });
    expect(res.body.checked).toBeGreaterThanOrEqual(2);
  });
});

describe('secrets are never stored', () => {
  it('drops secret-named keys at any depth and strings holding a bearer secret', async () => {
    const orgId = randomUUID();
    const secret = `dmn_scim_0123456789ab_${'A'.repeat(43)}`;
    const res = await publish({
      orgId,
      action: 'connection.updated',
      target: { type: 'connection', id: 'c-1' },
      changes: {
        name: { before: 'old', after: 'new' },
        clientSecret: { before: 'x', after: 'y' },
        scimToken: { after: 'abc' },
        password: { after: 'hunter2' },
        sessionCookie: { after: 'c' },
        samlAssertion: { after: '<xml/>' },
        idp: { before: { issuer: 'a', clientSecret: 'old-secret' }, after: { issuer: 'b', clientSecret: 'new-secret' } },
        note: { after: `leaked ${secret} here` },
        list: { after: ['ok', secret] },
      },
    }).set('X-Request-Id', 'req-secret');
    expect(res.status).toBe(204);
    const [event] = await eventsOf(orgId);
    expect(event.changes).toEqual({ name: { before: 'old', after: 'new' }, idp: { before: { issuer: 'a' }, after: { issuer: 'b' } }, note: {}, list: { after: ['ok'] } });
    const stored = JSON.stringify(await t.gateway.db.query('SELECT * FROM audit_events WHERE org_id = ?', [orgId]));
    for (const s of [secret, 'hunter2', 'old-secret', 'new-secret', 'abc', '<xml/>']) expect(stored).not.toContain(s);
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 1 });
  });

  it('masks a secret in a target id', async () => {
    const orgId = randomUUID();
    const secret = `dmn_admin_abcdefabcdef_${'b'.repeat(43)}`;
    await publish({ orgId, action: 'token.revoked', target: { type: 'admin_token', id: secret } });
    const [event] = await eventsOf(orgId);
    expect(event.targetId).toBe('[redacted]');
  });
});

describe('query API', () => {
  const orgId = randomUUID();
  let seqs: number[] = [];
  beforeAll(async () => {
    const rows: Array<Record<string, unknown>> = [
      { action: 'member.added', target: { type: 'user', id: 'alice' } },
      { action: 'member.role_changed', target: { type: 'user', id: 'alice' }, changes: { role: { before: 'member', after: 'owner' } } },
      { action: 'member.removed', target: { type: 'user', id: 'bob' } },
      { action: 'user.created', target: { type: 'user', id: 'carol' } },
      { action: 'members.exported', target: { type: 'org', id: orgId } },
      { action: 'team.created', target: { type: 'team', id: 'devs' } },
    ];
    for (const r of rows) expect((await publish({ orgId, ...r })).status).toBe(204);
    seqs = (await eventsOf(orgId)).map((e) => Number(e.seq));
    // Spread the events over known days (this org's chain is not verified below).
    for (const [i, seq] of seqs.entries()) await t.gateway.db.query('UPDATE audit_events SET occurred_at = ? WHERE seq = ?', [`2024-03-0${i + 1} 12:00:00.000`, seq]);
  });

  it.each([
    [{ action: 'member.role_changed' }, [1]],
    [{ action: 'member.*' }, [2, 1, 0]],
    [{ action: 'member*' }, [4, 2, 1, 0]],
    [{ targetId: 'alice' }, [1, 0]],
    [{ actorType: 'admin_token', actorId: 'bootstrap', targetId: 'bob' }, [2]],
    [{ actorType: 'system' }, []],
    [{ from: '2024-03-03', to: '2024-03-05T00:00:00Z' }, [3, 2]],
    [{ from: '2024-03-05T12:00:00.000+00:00' }, [5, 4]],
    [{ to: '2024-03-02T12:00:00.001Z' }, [1, 0]],
  ])('filters %j, newest first', async (filter, expected) => {
    const body = await list({ orgId, ...filter });
    expect(body.events.map((e) => e.seq)).toEqual(expected.map((i) => seqs[i]));
    expect(body.nextCursor).toBeNull();
  });

  it('returns the public event shape', async () => {
    const body = await list({ orgId, action: 'member.role_changed' });
    expect(body.events[0]).toMatchObject({
      seq: seqs[1],
      occurredAt: '2024-03-02T12:00:00.000Z',
      orgId,
      actor: { type: 'admin_token', id: 'bootstrap' },
      action: 'member.role_changed',
      target: { type: 'user', id: 'alice' },
      changes: { role: { before: 'member', after: 'owner' } },
    });
    expect(body.events[0]).toMatchObject({ sealed: false, chainSeq: null, prevHash: null, hash: null });
    await seal(orgId);
    const [sealed] = (await list({ orgId, action: 'member.role_changed' })).events;
    expect(sealed).toMatchObject({ seq: seqs[1], sealed: true, chainSeq: 2 });
    expect(sealed.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('pages with an opaque cursor', async () => {
    const first = await list({ orgId, limit: 4 });
    expect(first.events.map((e) => e.seq)).toEqual([5, 4, 3, 2].map((i) => seqs[i]));
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await list({ orgId, limit: 4, cursor: first.nextCursor! });
    expect(second.events.map((e) => e.seq)).toEqual([1, 0].map((i) => seqs[i]));
    expect(second.nextCursor).toBeNull();
  });

  it.each([
    [{ limit: 0 }, 'limit'],
    [{ limit: 1001 }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ from: 'yesterday' }, 'from'],
    [{ to: '2024-13-45' }, 'to'],
    [{ from: '2024-03-05', to: '2024-03-01' }, 'to'],
    [{ action: 'member.%' }, 'action'],
    [{ actorType: 'robot' }, 'actorType'],
    [{ cursor: 'not a cursor' }, 'cursor'],
    [{ cursor: Buffer.from('s:abc').toString('base64url') }, 'cursor'],
    [{ orgid: 'x' }, 'orgid'],
  ])('answers 400 naming the field for %j', async (query, field) => {
    const res = await t.admin('get', '/admin/v1/audit').query(query);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'DMN_INPUT_INVALID', field });
  });

  it('names a bad export format and a repeated parameter', async () => {
    const bad = await t.admin('get', '/admin/v1/audit/export').query({ format: 'xml' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('format');
    const twice = await t.admin('get', '/admin/v1/audit?action=a&action=b');
    expect(twice.status).toBe(400);
    expect(twice.body.error.field).toBe('action');
  });

  it('requires admin authentication', async () => {
    expect((await t.http.get('/admin/v1/audit')).status).toBe(401);
    expect((await t.http.get('/admin/v1/audit/export')).status).toBe(401);
  });
});

describe('pagination under concurrent writes', () => {
  it('yields every pre-existing event exactly once while new ones are inserted', async () => {
    const orgId = randomUUID();
    for (let i = 0; i < 60; i++) await publish({ orgId, action: 'user.updated', target: { type: 'user', id: `pre-${i}` } });
    const existing = new Set((await eventsOf(orgId)).map((e) => e.id));
    expect(existing.size).toBe(60);

    const seen: string[] = [];
    let cursor: string | null = null;
    let writer = 0;
    do {
      // Interleave: each page request races a burst of inserts into the same organization.
      const burst = Array.from({ length: 5 }, () => publish({ orgId, action: 'user.updated', target: { type: 'user', id: `new-${writer++}` } }));
      const [page]: [Awaited<ReturnType<typeof list>>, ...unknown[]] = await Promise.all([list({ orgId, limit: 7, ...(cursor ? { cursor } : {}) }), ...burst]);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);

    const preexisting = seen.filter((id) => existing.has(id));
    expect(preexisting).toHaveLength(60);
    expect(new Set(seen).size).toBe(seen.length);
    expect(writer).toBeGreaterThan(0);
    expect(await verify(orgId)).toMatchObject({ ok: true, checked: 60 + writer });
  });
});

describe('export', () => {
  it('streams CSV with correct escaping and headers', async () => {
    const orgId = randomUUID();
    await publish({ orgId, action: 'team.created', target: { type: 'team', id: 'a "quoted", name\nwith newline' }, changes: { name: { after: '=cmd()' } } });
    await publish({ orgId, action: 'team.created', target: { type: 'team', id: '=HYPERLINK("x")' } });
    const res = await t.admin('get', '/admin/v1/audit/export').query({ orgId, format: 'csv' }).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const lines = res.text.split('\r\n');
    expect(lines[0]).toBe('seq,id,occurredAt,orgId,connectionId,actorType,actorId,requestId,action,targetType,targetId,changes,prevHash,hash,sealed,chainSeq,jobId,causeId,context');
    // The export seals what has committed first, so its rows carry their hashes.
    expect(lines[1]).toMatch(/,[0-9a-f]{64},true,1,,,$/);
    expect(res.text).toContain(',team,"a ""quoted"", name\nwith newline","{""name"":{""after"":""=cmd()""}}",');
    expect(res.text).toContain(`,team,"'=HYPERLINK(""x"")",,`);
    expect(lines[2]).toMatch(/,true,2,,,$/);
  });

  it('streams NDJSON oldest first, filtered', async () => {
    const orgId = randomUUID();
    for (const action of ['member.added', 'team.created', 'member.removed']) await publish({ orgId, action });
    const res = await t.admin('get', '/admin/v1/audit/export').query({ orgId, action: 'member.*' }).buffer(true);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const events = res.text.trim().split('\n').map((l: string) => JSON.parse(l));
    expect(events.map((e: ApiAuditEvent) => e.action)).toEqual(['member.added', 'member.removed']);
  });
});

describe('with the audit plugin disabled', () => {
  it('producers run unchanged and nothing is written', async () => {
    const g = await startTestGateway({ plugins: [producerPlugin], redis: false });
    try {
      const res = await g.admin('post', '/admin/v1/producer/users').send({ orgId: randomUUID(), email: 'no-audit@example.com' });
      expect(res.status).toBe(200);
      expect(await g.gateway.db.getRepository(AuditEventEntity).count()).toBe(0);
      expect((await g.admin('get', '/admin/v1/audit')).status).toBe(404);
    } finally {
      await g.close();
    }
  });
});
