import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, connectionUpdated, type Gateway } from '@doorman/core';
import { startTestGateway, type TestGateway } from '@doorman/core/testing';
import { ScimTokenEntity, SsoConnectionEntity } from '@doorman/model';
import { tokenAuthPlugin } from '../src/index.ts';
import { createConnection, echoPlugin, issueToken, publishConnectionEvent, randomIp, tokenRow } from './helpers.ts';

/**
 * Two gateway processes' worth of state: `a` from the harness, `b` built on the same database and
 * Redis with its own pool, cache, limiter and subscriber (as a second replica would have).
 */
let a: TestGateway;
let b: Gateway;
const LONG_TTL = { cacheTtlMs: '60000', lastUsedFlushMs: '3600000' };

async function replica(settings: Record<string, string>): Promise<Gateway> {
  return buildGateway({
    config: a.gateway.config,
    catalog: [tokenAuthPlugin, echoPlugin],
    pluginSettings: { 'token-auth': settings },
    logger: a.gateway.logger.child({ replica: 'b' }),
  });
}

// Replicas built here listen on a random local port (the harness's supertest is bound to `a`).
const bases = new WeakMap<Gateway, string>();
async function statusOn(g: Gateway, token: string): Promise<number> {
  let base = bases.get(g);
  if (!base) {
    const server = await g.listen();
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    bases.set(g, base);
  }
  // A fresh address per request: the auth-failure counters live in the shared Redis.
  const res = await fetch(`${base}/scim/v2/Users/u1`, { headers: { Authorization: `Bearer ${token}`, 'X-Forwarded-For': randomIp() } });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  // A minute of cache: anything faster than that below is the Redis invalidation at work.
  a = await startTestGateway({ plugins: [tokenAuthPlugin, echoPlugin], gateway: { trustProxy: 'true' }, pluginSettings: { 'token-auth': LONG_TTL } });
  b = await replica(LONG_TTL);
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe('across replicas', () => {
  it('a token revoked on one replica is refused by the other through the Redis invalidation', async () => {
    const c = await createConnection(a.gateway);
    const token = await issueToken(a, c.id);
    expect(await statusOn(a.gateway, token.token)).toBe(200);
    expect(await statusOn(b, token.token)).toBe(200);
    // Without an invalidation, b keeps serving from its cache (no database read per request)...
    await b.db.getRepository(ScimTokenEntity).update({ id: token.id }, { name: 'touched' });
    expect(await statusOn(b, token.token)).toBe(200);

    expect((await a.admin('delete', `/admin/v1/connections/${c.id}/scim-tokens/${token.id}`)).status).toBe(204);
    expect(await statusOn(a.gateway, token.token)).toBe(401);
    // ...and the revocation reaches b long before its one-minute TTL.
    await expect.poll(() => statusOn(b, token.token), { timeout: 5_000, interval: 50 }).toBe(401);
  });

  it('a rotation with no grace stops the old token on the other replica too', async () => {
    const c = await createConnection(a.gateway);
    const old = await issueToken(a, c.id);
    expect(await statusOn(b, old.token)).toBe(200);
    const rotated = await a.admin('post', `/admin/v1/connections/${c.id}/scim-tokens/${old.id}/rotate`).send({ graceHours: 0 });
    expect(rotated.status).toBe(201);
    await expect.poll(() => statusOn(b, old.token), { timeout: 5_000, interval: 50 }).toBe(401);
    expect(await statusOn(b, rotated.body.token)).toBe(200);
  });

  it('a connection change published on one replica reaches the other', async () => {
    const c = await createConnection(a.gateway);
    const token = await issueToken(a, c.id);
    expect(await statusOn(b, token.token)).toBe(200);
    await publishConnectionEvent(a.gateway, connectionUpdated, c.id, (tx) => tx.getRepository(SsoConnectionEntity).update({ id: c.id }, { scimEnabled: false }));
    await expect.poll(() => statusOn(b, token.token), { timeout: 5_000, interval: 50 }).toBe(403);
  });

  it('shares the per-connection rate limit between replicas', async () => {
    const c = await createConnection(a.gateway, { rateLimitPerSecond: 1 });
    const token = await issueToken(a, c.id);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await statusOn(i % 2 ? b : a.gateway, token.token));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('without any invalidation, a replica stops honouring a revoked token once its cache TTL runs out', async () => {
    const short = await replica({ cacheTtlMs: '300', lastUsedFlushMs: '3600000' });
    try {
      const c = await createConnection(a.gateway);
      const token = await issueToken(a, c.id);
      expect(await statusOn(short, token.token)).toBe(200);
      // Revoked straight in the database: no event, no Redis message; only the TTL bound applies.
      await a.gateway.db.getRepository(ScimTokenEntity).update({ id: token.id }, { revokedAt: new Date() });
      await expect.poll(() => statusOn(short, token.token), { timeout: 5_000, interval: 50 }).toBe(401);
    } finally {
      await short.close();
    }
  });
});

describe('last use', () => {
  it('is written on shutdown, not per request', async () => {
    const other = await replica(LONG_TTL);
    const c = await createConnection(a.gateway);
    const token = await issueToken(a, c.id);
    for (let i = 0; i < 3; i++) expect(await statusOn(other, token.token)).toBe(200);
    expect((await tokenRow(a.gateway, token.id)).lastUsedAt).toBeNull();
    await other.close();
    const lastUsedAt = (await tokenRow(a.gateway, token.id)).lastUsedAt;
    expect(lastUsedAt).toBeInstanceOf(Date);
    expect(Math.abs(lastUsedAt!.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('is flushed periodically', async () => {
    const other = await replica({ cacheTtlMs: '5000', lastUsedFlushMs: '200' });
    try {
      const c = await createConnection(a.gateway);
      const token = await issueToken(a, c.id);
      expect(await statusOn(other, token.token)).toBe(200);
      await expect.poll(async () => (await tokenRow(a.gateway, token.id)).lastUsedAt, { timeout: 5_000, interval: 100 }).toBeInstanceOf(Date);
    } finally {
      await other.close();
    }
  });

  it('never moves backwards when an older replica flushes later', async () => {
    const c = await createConnection(a.gateway);
    const token = await issueToken(a, c.id);
    const future = new Date(Date.now() + 3_600_000);
    await a.gateway.db.getRepository(ScimTokenEntity).update({ id: token.id }, { lastUsedAt: future });
    const other = await replica(LONG_TTL);
    expect(await statusOn(other, token.token)).toBe(200);
    await other.close();
    expect((await tokenRow(a.gateway, token.id)).lastUsedAt).toEqual(future);
  });
});
