import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '@doorman/core/testing';
import { auditPlugin } from '../src/index.ts';
import { verifyChain } from '../src/chain.ts';
import { seedChain } from './helpers.ts';

const COUNT = 100_000;
const MB = 1024 * 1024;
let t: TestGateway;
let server: Server;
const orgId = randomUUID();

beforeAll(async () => {
  t = await startTestGateway({ plugins: [auditPlugin], redis: false });
  const start = Date.parse('2025-01-01T00:00:00Z');
  await seedChain(t.gateway.db, orgId, COUNT, (i) => ({
    occurredAt: new Date(start + i * 1000),
    action: i % 3 === 0 ? 'member.role_changed' : 'user.updated',
    actorType: 'scim_token',
    actorId: 'token-1',
    targetId: `user-${i % 5000}`,
    changes: { fullName: { before: `Person ${i}`, after: `Person ${i}, "Jr."\nline two` }, active: { before: true, after: i % 2 === 0 } },
  }));
  server = await t.gateway.listen();
}, 180_000);
afterAll(async () => t?.close());

/** Streams the export over a real socket, counting lines and sampling memory as chunks arrive. */
function streamExport(query: string) {
  const port = (server.address() as AddressInfo).port;
  return new Promise<{ status: number; lines: number; bytes: number; maxHeapGrowth: number; maxRssGrowth: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const baseHeap = process.memoryUsage().heapUsed;
    const baseRss = process.memoryUsage().rss;
    let maxHeap = baseHeap;
    let maxRss = baseRss;
    const sample = () => {
      const m = process.memoryUsage();
      maxHeap = Math.max(maxHeap, m.heapUsed);
      maxRss = Math.max(maxRss, m.rss);
    };
    const timer = setInterval(sample, 20);
    get({ host: '127.0.0.1', port, path: `/admin/v1/audit/export?${query}`, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      let chunks = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        if (++chunks % 16 === 0) sample();
      });
      res.on('end', () => {
        clearInterval(timer);
        sample();
        resolve({ status: res.statusCode ?? 0, lines, bytes, maxHeapGrowth: maxHeap - baseHeap, maxRssGrowth: maxRss - baseRss, headers: res.headers });
      });
      res.on('error', reject);
    }).on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
  });
}

describe('export of 100,000 events', () => {
  it('streams every event as NDJSON with flat memory', async () => {
    const r = await streamExport(`orgId=${orgId}&format=ndjson`);
    console.log(
      `audit export: ${r.lines} NDJSON lines, ${(r.bytes / MB).toFixed(1)} MB streamed; peak heap growth ${(r.maxHeapGrowth / MB).toFixed(1)} MB, peak RSS growth ${(r.maxRssGrowth / MB).toFixed(1)} MB`,
    );
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(r.lines).toBe(COUNT);
    // The export is ~45 MB: holding it (or its rows) in memory would show far above these bounds.
    expect(r.bytes).toBeGreaterThan(40 * MB);
    expect(r.maxHeapGrowth).toBeLessThan(60 * MB);
    expect(r.maxRssGrowth).toBeLessThan(120 * MB);
  }, 180_000);

  it('streams a filtered CSV with flat memory', async () => {
    const r = await streamExport(`orgId=${orgId}&format=csv&action=member.*`);
    console.log(`audit export: CSV ${(r.bytes / MB).toFixed(1)} MB; peak heap growth ${(r.maxHeapGrowth / MB).toFixed(1)} MB`);
    expect(r.status).toBe(200);
    // The header, then one line per member.* event (newlines inside `changes` are JSON-escaped).
    expect(r.lines).toBe(1 + Math.ceil(COUNT / 3));
    expect(r.maxHeapGrowth).toBeLessThan(60 * MB);
  }, 180_000);

  it('seeded a valid chain (verification walks it in batches)', async () => {
    expect(await verifyChain(t.gateway.db, orgId)).toMatchObject({ ok: true, checked: COUNT });
  }, 180_000);
});
