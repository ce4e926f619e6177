import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { adminRouteCoverage, ADMIN_API_PREFIX } from '@doorman/core';
import { testEvent, type TestGateway } from '@doorman/core/testing';
import { countRows, personChange, startHarness, waitFor } from './helpers.ts';

let t: TestGateway;
beforeAll(async () => {
  t = await startHarness({}, { jobs: false });
});
afterAll(async () => t?.close());

const actor = { type: 'system' as const, id: null, requestId: null };

async function pullAll(query = '') {
  const out: Array<{ id: string; type: string; subject: { id: string }; sequence: number; organizationId: string | null }> = [];
  let after: string | null = null;
  for (;;) {
    const res: { body: { data: typeof out; listMetadata: { after: string | null } } } = await t.admin('get', `/admin/v1/events?limit=3${query}${after ? `&after=${after}` : ''}`).expect(200);
    out.push(...res.body.data);
    if (!res.body.data.length) return { events: out, after: res.body.listMetadata.after as string | null };
    after = res.body.listMetadata.after;
  }
}

describe('pull API', () => {
  it('lists events in commit order with a cursor that never skips a late commit', async () => {
    const person = randomUUID();
    // A transaction whose event row is written (lower seq) but whose COMMIT is held back: a second
    // beforeTransactionCommit subscriber waits while the recorder's one has inserted the row.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    t.gateway.db.subscribers.push({
      beforeTransactionCommit: async (event) => {
        if ((event.queryRunner.data as Record<string, unknown> | undefined)?.holdForTest) await held;
      },
    });
    const late = t.gateway.transaction(async (tx) => {
      tx.queryRunner!.data = { ...(tx.queryRunner!.data ?? {}), holdForTest: true };
      await t.gateway.events.publish(tx, actor, testEvent({ action: 'group.created', target: { type: 'group', id: 'g-late' } }));
    });
    // Seen uncommitted: the late event holds a seq below everything that follows.
    await waitFor(
      async () => Number((await t.gateway.db.transaction('READ UNCOMMITTED', (tx) => tx.query("SELECT COUNT(*) AS n FROM webhook_events WHERE subject_id = 'g-late'")))[0].n) === 1,
      'late event inserted, uncommitted',
    );
    await personChange(t.gateway, person, 'user.created');
    await personChange(t.gateway, person, 'user.updated');
    const first = await pullAll();
    expect(first.events.map((e) => e.type)).toEqual(['person.created', 'person.updated']);
    const [{ personFirstSeq }] = await t.gateway.db.query("SELECT MIN(seq) AS personFirstSeq FROM webhook_events WHERE subject_id = ?", [person]);
    release();
    await late;
    const [{ seq }] = await t.gateway.db.query("SELECT seq FROM webhook_events WHERE subject_id = 'g-late'");
    expect(Number(seq)).toBeLessThan(Number(personFirstSeq));
    // The late commit shows up after the cursor already handed out, not behind it.
    const res = await t.admin('get', `/admin/v1/events?after=${first.after}`).expect(200);
    expect(res.body.data.map((e: { type: string }) => e.type)).toEqual(['group.created']);
    expect(res.body).toMatchObject({ object: 'list', listMetadata: { after: expect.any(String) } });
    expect(res.body.data[0]).toMatchObject({ object: 'event', id: expect.any(String), subject: { type: 'group', id: 'g-late' }, sequence: 1 });
  });

  it('filters by type (exact or family) and organization', async () => {
    const org = randomUUID();
    const person = randomUUID();
    await t.gateway.transaction((tx) =>
      t.gateway.events.publish(
        tx,
        actor,
        testEvent({ action: 'member.added', orgId: org, target: { type: 'user', id: person }, changes: { role: { after: 'member' } } }),
        testEvent({ action: 'member.role_changed', orgId: org, target: { type: 'user', id: person }, changes: { role: { before: 'member', after: 'owner' } } }),
        testEvent({ action: 'member.added', orgId: randomUUID(), target: { type: 'user', id: person } }),
      ),
    );
    const byOrg = await pullAll(`&org=${org}`);
    expect(byOrg.events.map((e) => [e.type, e.sequence])).toEqual([['membership.added', 1], ['membership.role_changed', 2]]);
    const byType = await pullAll(`&org=${org}&types=membership.role_changed`);
    expect(byType.events.map((e) => e.type)).toEqual(['membership.role_changed']);
    const byFamily = await pullAll('&types=membership.*,sso.signed_in');
    expect(byFamily.events.every((e) => e.type.startsWith('membership.'))).toBe(true);
    expect(byFamily.events.length).toBeGreaterThanOrEqual(3);
  });

  it('records nothing for a change that rolls back, or for what a rolled-back savepoint published', async () => {
    const person = randomUUID();
    await expect(
      t.gateway.transaction(async (tx) => {
        await t.gateway.events.publish(tx, actor, testEvent({ action: 'user.created', target: { type: 'user', id: person } }));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await t.gateway.transaction(async (tx) => {
      await t.gateway.events.publish(tx, actor, testEvent({ action: 'user.created', target: { type: 'user', id: person } }));
      await tx.queryRunner!.startTransaction();
      await t.gateway.events.publish(tx, actor, testEvent({ action: 'user.updated', target: { type: 'user', id: person } }));
      await tx.queryRunner!.rollbackTransaction();
    });
    const events = await countRows(t, "SELECT COUNT(*) AS n FROM webhook_events WHERE subject_id = ?", [person]);
    expect(events).toBe(1);
    const [row] = await t.gateway.db.query('SELECT type, subject_seq FROM webhook_events WHERE subject_id = ?', [person]);
    expect(row).toMatchObject({ type: 'person.created' });
    expect(Number(row.subject_seq)).toBe(1);
  });

  it('numbers one person\'s events 1, 2, 3… across concurrent transactions', async () => {
    const person = randomUUID();
    await Promise.all(Array.from({ length: 20 }, () => personChange(t.gateway, person)));
    const rows: Array<{ subject_seq: number | string }> = await t.gateway.db.query('SELECT subject_seq FROM webhook_events WHERE subject_id = ? ORDER BY seq', [person]);
    expect(rows.map((r) => Number(r.subject_seq)).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each([
    ['after=bm9wZQ', 'after'],
    ['types=person.exploded', 'types'],
    ['limit=0', 'limit'],
    ['org=', 'org'],
    ['since=2020', 'since'],
    ['limit=1&limit=2', 'limit'],
  ])('GET /events?%s is a 400 naming %s', async (query, field) => {
    const res = await t.admin('get', `/admin/v1/events?${query}`).expect(400);
    expect(res.body.error).toMatchObject({ field });
  });

  it('every webhooks admin route is in the OpenAPI document', async () => {
    const coverage = adminRouteCoverage(t.gateway.http.admin, t.gateway.openApiDocument(), ADMIN_API_PREFIX);
    expect(coverage).toEqual({ undocumented: [], unmounted: [] });
    const paths = Object.keys(t.gateway.openApiDocument().paths ?? {});
    expect(paths).toEqual(expect.arrayContaining(['/events', '/webhooks', '/webhooks/{id}', '/webhooks/{id}/rotate-secret', '/webhooks/{id}/deliveries', '/webhook-deliveries/{deliveryId}', '/webhook-deliveries/{deliveryId}/redeliver']));
  });
});
