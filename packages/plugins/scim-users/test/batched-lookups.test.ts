/**
 * Gets by id and `userName eq` lookups that arrive in the same turn of the event loop share one
 * statement per connection. Against MariaDB: each must still answer exactly its own user, within its
 * own tenant.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NotFoundError, roleMappingServiceRef } from '@doorman/core';
import { ScimUserStore, type Tenant } from '../src/store.ts';
import { newUser, startScimTestBed, type ScimTestBed } from './setup.ts';

let bed: ScimTestBed;
let store: ScimUserStore;
const idsOf: Record<'a' | 'b', string[]> = { a: [], b: [] };

beforeAll(async () => {
  bed = await startScimTestBed();
  const g = bed.t.gateway;
  store = new ScimUserStore({ db: g.db, transaction: g.transaction, events: g.events, jobs: g.jobs, roleMapping: g.get(roleMappingServiceRef), dialect: 'mysql', baseUrl: 'http://test/scim/v2', now: () => new Date() });
  for (const [tenant, names] of [['a', ['ada', 'alan', 'edsger', 'grace']], ['b', ['barbara', 'ken']]] as const) {
    for (const name of names) {
      const res = await bed.scim(bed[tenant], 'post', '/Users').send(newUser(`${name}@batch.test`));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      idsOf[tenant].push(res.body.id);
    }
  }
});
afterAll(async () => bed?.t.close());

const tenantOf = (connectionId: string): Tenant => ({ connectionId, actor: { type: 'scim_token', id: 'test', requestId: null } });

/** The statements on connection_users that `work` sent through the data source. */
async function batchedStatements<T>(work: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const spy = vi.spyOn(bed.t.gateway.db, 'query');
  try {
    const result = await work();
    const statements = spy.mock.calls.filter(([sql]) => /FROM connection_users/.test(String(sql))).length;
    return { result, statements };
  } finally {
    spy.mockRestore();
  }
}

describe('gets by id in one turn of the event loop', () => {
  it('share one statement per connection, each answering its own user', async () => {
    const { result, statements } = await batchedStatements(() =>
      Promise.all([...idsOf.a, ...idsOf.a.slice(0, 2)].map((id) => store.get(tenantOf(bed.a.connectionId), id))),
    );
    expect(statements).toBe(1);
    expect(result.map((r) => r.resource.id)).toEqual([...idsOf.a, ...idsOf.a.slice(0, 2)]);
    expect(result.map((r) => r.resource.userName)).toEqual(['ada', 'alan', 'edsger', 'grace', 'ada', 'alan'].map((n) => `${n}@batch.test`));
  });

  it("keep tenants apart: another connection's id and an unknown id are 404 in the same batch", async () => {
    const asA = tenantOf(bed.a.connectionId);
    const asB = tenantOf(bed.b.connectionId);
    const { result, statements } = await batchedStatements(() =>
      Promise.allSettled([
        store.get(asA, idsOf.a[0]!),
        store.get(asA, idsOf.b[0]!), // B's user, asked for by A
        store.get(asB, idsOf.b[1]!),
        store.get(asB, idsOf.a[1]!), // A's user, asked for by B
        store.get(asA, '00000000-0000-4000-8000-000000000000'),
      ]),
    );
    expect(statements).toBe(2); // one per connection
    const outcome = result.map((r) => (r.status === 'fulfilled' ? r.value.resource.userName : r.reason instanceof NotFoundError ? 404 : r.reason));
    expect(outcome).toEqual(['ada@batch.test', 404, 'ken@batch.test', 404, 404]);
  });

  it('match ids exactly (SCIM ids are caseExact), though MariaDB compares them case-insensitively', async () => {
    const id = idsOf.a[0]!;
    await expect(store.get(tenantOf(bed.a.connectionId), id.toUpperCase())).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.get(tenantOf(bed.a.connectionId), `${id} `)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.get(tenantOf(bed.a.connectionId), id)).resource.id).toBe(id);
  });

  it('answer concurrent HTTP gets from two tenants each with its own users only', async () => {
    const requests = [
      ...idsOf.a.map((id) => ({ tenant: bed.a, id, expect: 200 })),
      ...idsOf.b.map((id) => ({ tenant: bed.b, id, expect: 200 })),
      ...idsOf.b.map((id) => ({ tenant: bed.a, id, expect: 404 })),
      ...idsOf.a.map((id) => ({ tenant: bed.b, id, expect: 404 })),
    ];
    const responses = await Promise.all(requests.map((r) => bed.scim(r.tenant, 'get', `/Users/${r.id}`)));
    responses.forEach((res, i) => {
      expect(res.status).toBe(requests[i]!.expect);
      if (res.status === 200) expect(res.body.id).toBe(requests[i]!.id);
    });
    // Every one of those gets went through a batch, and the metric tells operators how many shared one.
    const metrics = (await bed.t.http.get('/metrics')).text;
    expect(metrics).toMatch(new RegExp(`^doorman_scim_users_lookup_batch_size_sum\\{lookup="id"\\} ${requests.length}$`, 'm'));
    const batches = Number(/^doorman_scim_users_lookup_batch_size_count\{lookup="id"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThanOrEqual(requests.length);
  });

  it('a get after a write reads the write (no cache between them)', async () => {
    const id = idsOf.a[3]!;
    const patched = await bed.scim(bed.a, 'patch', `/Users/${id}`).send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'Grace H.' }] });
    expect(patched.status).toBe(200);
    const [first, second] = await Promise.all([store.get(tenantOf(bed.a.connectionId), id), store.get(tenantOf(bed.a.connectionId), id)]);
    expect(first.resource.displayName).toBe('Grace H.');
    expect((second.resource.meta as { version: unknown }).version).toBe(patched.body.meta.version);
    expect(second.version).toBe(2);
  });
});

describe('userName eq lookups in one turn of the event loop', () => {
  const page = (filter: string, startIndex = 1, count = 100) => ({ filter, startIndex, count, attributes: [], excludedAttributes: [] });
  const lookup = (connectionId: string, filter: string) => store.list(tenantOf(connectionId), page(filter));

  it('share one statement per connection, match case-insensitively and answer each its own user', async () => {
    const { result, statements } = await batchedStatements(() =>
      Promise.all([
        lookup(bed.a.connectionId, 'userName eq "ada@batch.test"'),
        lookup(bed.a.connectionId, 'userName eq "ALAN@Batch.Test"'),
        lookup(bed.a.connectionId, 'userName eq "nobody@batch.test"'),
        lookup(bed.a.connectionId, 'userName eq "ada@batch.test"'),
        lookup(bed.a.connectionId, 'userName eq "barbara@batch.test"'), // B's user
        lookup(bed.b.connectionId, 'userName eq "barbara@batch.test"'),
        lookup(bed.b.connectionId, 'userName eq "grace@batch.test"'), // A's user
      ]),
    );
    expect(statements).toBe(2); // one per connection
    expect(result.map((r) => [r.totalResults, ...r.resources.map((u) => u.id)])).toEqual([
      [1, idsOf.a[0]],
      [1, idsOf.a[1]],
      [0],
      [1, idsOf.a[0]],
      [0],
      [1, idsOf.b[0]],
      [0],
    ]);
  });

  it('leave every other filter, sort and page to the list query', async () => {
    const spy = vi.spyOn(bed.t.gateway.db, 'query');
    const result = await Promise.all([
      store.list(tenantOf(bed.a.connectionId), page('userName eq "ada@batch.test"', 2, 10)),
      store.list(tenantOf(bed.a.connectionId), { ...page('userName eq "ada@batch.test"', 1, 10), sortBy: 'userName' }),
      store.list(tenantOf(bed.a.connectionId), page('userName sw "a"', 1, 10)),
    ]).finally(() => spy.mockRestore());
    expect(spy.mock.calls.filter(([sql]) => String(sql).includes('UNION ALL'))).toEqual([]);
    expect(result[0]!.resources).toEqual([]);
    expect(result[1]!.resources.map((u) => u.id)).toEqual([idsOf.a[0]]);
    expect(result[2]!.resources.map((u) => u.userName).sort()).toEqual(['ada@batch.test', 'alan@batch.test']);
  });
});

describe('unfiltered list pages in one turn of the event loop', () => {
  it('read the user counter with one statement, each page with its own connection\'s total', async () => {
    const asA = tenantOf(bed.a.connectionId);
    const asB = tenantOf(bed.b.connectionId);
    const page = (startIndex: number, count: number) => ({ startIndex, count, attributes: [], excludedAttributes: [] });
    const spy = vi.spyOn(bed.t.gateway.db, 'query');
    let pages: Array<{ totalResults: number; resources: unknown[] }>;
    let counterReads: unknown[];
    try {
      pages = await Promise.all([
        store.list(asA, page(1, 2)),
        store.list(asB, page(1, 10)),
        store.list(asA, page(3, 10)),
        store.list(asB, page(1, 0)),
      ]);
      counterReads = spy.mock.calls.filter(([sql]) => /FROM connection_user_counts/.test(String(sql)));
    } finally {
      spy.mockRestore();
    }
    expect(counterReads).toHaveLength(1);
    const [rowsA, rowsB] = await Promise.all([bed.a, bed.b].map(async (t) => Number((await bed.t.gateway.db.query('SELECT COUNT(*) AS n FROM connection_users WHERE connection_id = ?', [t.connectionId]))[0].n)));
    expect(pages.map((p) => p.totalResults)).toEqual([rowsA, rowsB, rowsA, rowsB]);
    expect(pages.map((p) => p.resources.length)).toEqual([2, rowsB, Math.max(0, rowsA - 2), 0]);
    // The count follows the rows at once (no cache): a create, then a page.
    await store.create(asB, newUser('counted@batch.test'));
    expect((await store.list(asB, page(1, 0))).totalResults).toBe(rowsB + 1);
  });
});
